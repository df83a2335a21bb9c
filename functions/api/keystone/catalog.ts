import { type Context, Hono } from 'hono';
import * as v from 'valibot';
import { buildCatalog, CATALOG_SERVICES } from '../../identity/catalog.ts';
import { Forbidden, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authenticate } from '../middleware/auth.ts';
import { readQuery } from '../middleware/validate.ts';
import { authorize } from '../policy.ts';
import { collectionLinks, entityLinks } from './views.ts';

// Keystone's /v3/services, /v3/endpoints and /v3/regions, read from the catalog tokens carry
// (functions/identity/catalog.ts): `openstack service|endpoint|region list|show` see exactly what
// keystoneauth resolves. The catalog follows from the deployment (every service answers on the API's
// own origin), so it is not edited through the API.
const FIXED =
  'The service catalog follows from the deployment: services, endpoints and regions cannot be changed.';

const ServiceFilters = v.strictObject({ type: v.optional(v.string()), name: v.optional(v.string()) });
const EndpointFilters = v.strictObject({
  service_id: v.optional(v.string()),
  interface: v.optional(v.string()),
  region_id: v.optional(v.string()),
  region: v.optional(v.string()),
});
const RegionFilters = v.strictObject({ parent_region_id: v.optional(v.string()) });

function catalogOf(c: Context<AppEnv>) {
  return buildCatalog(new URL(c.req.url).origin, c.var.config.REGION_NAME);
}

function refuseChanges(app: Hono<AppEnv>, collection: string): Hono<AppEnv> {
  const refuse = () => {
    throw new Forbidden(FIXED);
  };
  return app
    .post(`/${collection}`, authenticate, refuse)
    .patch(`/${collection}/:id`, authenticate, refuse)
    .delete(`/${collection}/:id`, authenticate, refuse);
}

const routes = new Hono<AppEnv>()
  .get('/services', authenticate, (c) => {
    authorize(c.var.caller, 'identity:list_services');
    const filters = readQuery(c, ServiceFilters);
    const services = CATALOG_SERVICES.filter(
      (service) =>
        (filters.type === undefined || service.type === filters.type) &&
        (filters.name === undefined || service.name === filters.name),
    );
    return c.json({
      services: services.map((service) => serviceView(c, service)),
      links: collectionLinks(c),
    });
  })
  .get('/services/:service_id', authenticate, (c) => {
    authorize(c.var.caller, 'identity:get_service');
    const id = c.req.param('service_id');
    const service = CATALOG_SERVICES.find((candidate) => candidate.type === id);
    if (!service) throw new NotFound(`Could not find service: ${id}.`);
    return c.json({ service: serviceView(c, service) });
  })
  .get('/endpoints', authenticate, (c) => {
    authorize(c.var.caller, 'identity:list_endpoints');
    const filters = readQuery(c, EndpointFilters);
    const region = filters.region_id ?? filters.region;
    const endpoints = endpointViews(c).filter(
      (endpoint) =>
        (filters.service_id === undefined || endpoint.service_id === filters.service_id) &&
        (filters.interface === undefined || endpoint.interface === filters.interface) &&
        (region === undefined || endpoint.region_id === region),
    );
    return c.json({ endpoints, links: collectionLinks(c) });
  })
  .get('/endpoints/:endpoint_id', authenticate, (c) => {
    authorize(c.var.caller, 'identity:get_endpoint');
    const id = c.req.param('endpoint_id');
    const endpoint = endpointViews(c).find((candidate) => candidate.id === id);
    if (!endpoint) throw new NotFound(`Could not find endpoint: ${id}.`);
    return c.json({ endpoint });
  })
  .get('/regions', authenticate, (c) => {
    authorize(c.var.caller, 'identity:list_regions');
    const filters = readQuery(c, RegionFilters);
    return c.json({
      regions: filters.parent_region_id === undefined ? [regionView(c)] : [],
      links: collectionLinks(c),
    });
  })
  .get('/regions/:region_id', authenticate, (c) => {
    authorize(c.var.caller, 'identity:get_region');
    const id = c.req.param('region_id');
    if (id !== c.var.config.REGION_NAME) throw new NotFound(`Could not find region: ${id}.`);
    return c.json({ region: regionView(c) });
  });

function serviceView(c: Context<AppEnv>, service: (typeof CATALOG_SERVICES)[number]) {
  return {
    id: service.type,
    type: service.type,
    name: service.name,
    description: '',
    enabled: true,
    links: entityLinks(c, 'services', service.type),
  };
}

function endpointViews(c: Context<AppEnv>) {
  return catalogOf(c).flatMap((service) =>
    service.endpoints.map((endpoint) => ({
      id: endpoint.id,
      service_id: service.id,
      interface: endpoint.interface,
      region_id: endpoint.region_id,
      region: endpoint.region,
      url: endpoint.url,
      enabled: true,
      links: entityLinks(c, 'endpoints', endpoint.id),
    })),
  );
}

function regionView(c: Context<AppEnv>) {
  const id = c.var.config.REGION_NAME;
  return { id, description: '', parent_region_id: null, links: entityLinks(c, 'regions', id) };
}

export const catalogRoutes = ['services', 'endpoints', 'regions'].reduce(refuseChanges, routes);
