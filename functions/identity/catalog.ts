// The service catalog, built in this one place for token issue, token validation and
// GET /auth/catalog. Every service answers on the API's own origin, so the catalog is a pure function of
// that origin and the region; ids are derived from the service type and stay the same across calls.
export interface CatalogService {
  type: string;
  name: string;
  /** Path of the service's root on the API origin, where its version discovery answers. */
  path: string;
}

export const CATALOG_SERVICES: readonly CatalogService[] = [
  { type: 'identity', name: 'keystone', path: '/identity' },
  { type: 'compute', name: 'nova', path: '/v2.1' },
  { type: 'image', name: 'glance', path: '/image' },
  { type: 'network', name: 'neutron', path: '/network' },
];

export function buildCatalog(origin: string, region: string) {
  return CATALOG_SERVICES.map((service) => ({
    id: service.type,
    type: service.type,
    name: service.name,
    endpoints: [
      {
        id: `${service.type}-public`,
        interface: 'public',
        // keystoneauth matches region_id and falls back to region: both are set.
        region_id: region,
        region,
        url: `${origin}${service.path}`,
      },
    ],
  }));
}
