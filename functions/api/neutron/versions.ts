import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { type Route, route } from '../route.ts';

// Version discovery and the extension list of the networking service. openstacksdk and keystoneauth
// fetch the catalog URL (`<origin>/network`) before using it, without a token, as neutron-server answers
// its root; the extension list tells the CLI which attributes and calls exist.

function versionsDocument(c: Context<AppEnv>) {
  const href = `${new URL(c.req.url).origin}/network/v2.0/`;
  return { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href }] }] };
}

/** The API extensions served, as Neutron names them (alias → name, description). */
export const NETWORK_EXTENSIONS: ReadonlyArray<{ alias: string; name: string; description: string }> = [
  {
    alias: 'external-net',
    name: 'Neutron external network',
    description: 'Adds external network attribute to network resource.',
  },
  {
    alias: 'provider',
    name: 'Provider Network',
    description: 'Expose mapping of virtual networks to physical networks',
  },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.' },
  {
    alias: 'net-mtu-writable',
    name: 'Network MTU (writable)',
    description: 'Provides a writable MTU attribute for a network resource.',
  },
  {
    alias: 'ip-substring-filtering',
    name: 'IP address substring filtering',
    description: 'Provides IP address substring filtering when listing ports',
  },
  {
    alias: 'binding',
    name: 'Port Binding',
    description: 'Expose port bindings of a virtual port to external application',
  },
  {
    alias: 'allowed-address-pairs',
    name: 'Allowed Address Pairs',
    description: 'Provides allowed address pairs',
  },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.' },
  {
    alias: 'router',
    name: 'Neutron L3 Router',
    description:
      'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
  },
  {
    alias: 'ext-gw-mode',
    name: 'Neutron L3 Configurable external gateway mode',
    description:
      'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway',
  },
  {
    alias: 'fip-port-details',
    name: 'Floating IP Port Details Extension',
    description: 'Add port_details attribute to Floating IP resource',
  },
  {
    alias: 'stateful-security-group',
    name: 'Stateful security group',
    description: 'Indicates if the security group is stateful or not',
  },
  {
    alias: 'security-groups-normalized-cidr',
    name: 'Security group rule normalized CIDR',
    description: 'Add new field with normalized remote_ip_prefix cidr in SG rule',
  },
  {
    alias: 'quota_details',
    name: 'Quota details management support',
    description: 'Expose functions for quotas usage statistics per project',
  },
  {
    alias: 'quota-check-limit',
    name: 'Quota engine limit check',
    description: 'Support for checking the resource usage before applying a new quota limit',
  },
  {
    alias: 'quotas',
    name: 'Quota management support',
    description: 'Expose functions for quotas management per tenant',
  },
  {
    alias: 'standard-attr-description',
    name: 'standard-attr-description',
    description: 'Extension to add descriptions to standard attributes',
  },
  {
    alias: 'standard-attr-revisions',
    name: 'Resource revision numbers',
    description: 'This extension will display the revision number of neutron resources.',
  },
  {
    alias: 'standard-attr-timestamp',
    name: 'Resource timestamps',
    description:
      'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
  },
  {
    alias: 'project-id',
    name: 'project_id field enabled',
    description: 'Extension that indicates that project_id field is enabled.',
  },
  {
    alias: 'filter-validation',
    name: 'Filter parameters validation',
    description: 'Provides validation on filter parameters.',
  },
  {
    alias: 'pagination',
    name: 'Pagination support',
    description: 'Extension that indicates that pagination is enabled.',
  },
  {
    alias: 'sorting',
    name: 'Sorting support',
    description: 'Extension that indicates that sorting is enabled.',
  },
];

const UPDATED = '2013-10-17T10:00:00-00:00';

const rootDocument = (path: string): Route =>
  route({
    method: 'get',
    path,
    summary: 'List networking API versions',
    auth: 'none',
    responses: { 200: 'versions' },
    handler: (c) => c.json(versionsDocument(c)),
  });

export const networkVersionRoutes: Route[] = [
  rootDocument('/network'),
  rootDocument('/network/'),
  route({
    method: 'get',
    path: '/network/v2.0',
    summary: 'List the networking API resources',
    responses: { 200: 'resources' },
    handler: (c) => {
      const base = `${new URL(c.req.url).origin}/network/v2.0`;
      const resources = [
        'network',
        'subnet',
        'port',
        'router',
        'floatingip',
        'security_group',
        'security_group_rule',
        'quota',
      ];
      return c.json({
        resources: resources.map((name) => ({
          name,
          collection: name === 'quota' ? 'quotas' : `${name}s`,
          links: [{ rel: 'self', href: `${base}/${name === 'quota' ? 'quotas' : `${name}s`}` }],
        })),
      });
    },
  }),
  route({
    method: 'get',
    path: '/network/v2.0/extensions',
    summary: 'List the networking API extensions',
    responses: { 200: 'extensions' },
    handler: (c) =>
      c.json({
        extensions: NETWORK_EXTENSIONS.map((extension) => ({ ...extension, updated: UPDATED, links: [] })),
      }),
  }),
  route({
    method: 'get',
    path: '/network/v2.0/extensions/:alias',
    summary: 'Show a networking API extension',
    responses: { 200: 'extension' },
    handler: (c) => {
      const extension = NETWORK_EXTENSIONS.find((candidate) => candidate.alias === c.req.param('alias'));
      if (!extension)
        return c.json(
          {
            NeutronError: {
              type: 'ExtensionNotFound',
              message: `Extension with alias ${c.req.param('alias')} does not exist`,
              detail: '',
            },
          },
          404,
        );
      return c.json({ extension: { ...extension, updated: UPDATED, links: [] } });
    },
  }),
];
