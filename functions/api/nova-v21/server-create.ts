import type { Context } from 'hono';
import * as v from 'valibot';
import { BadRequest, Forbidden, OverQuota } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import { Description, Fqdn, Tags, TrustedCertificates, UserData } from '../nova/server-create-options.ts';
import { serversExtension } from '../nova/servers.ts';
import { v3Route } from './face.ts';
import {
  AccessIp,
  AdminPass,
  DiskConfig,
  FlavorRef,
  hostnameSchema,
  ImageRef,
  Metadata,
  NovaBoolean,
  Personality,
  ServerName,
  since,
} from './server-fields.ts';
import { callV3 } from './v3-call.ts';

// POST /v2.1/servers (clients-and-microversions.md §4.2): the v2.1 body, as the request's microversion
// defines it, translated to v3's and created by the v3 handler.
// Nova's positive_integer: a JSON integer or a string of digits, at least 1 (v3's Count takes both).
const Count = v.union(
  [
    v.pipe(v.number(), v.integer(), v.minValue(1)),
    v.pipe(v.string(), v.regex(/^[1-9]\d*$/, 'must be a positive integer')),
  ],
  'must be a positive integer',
);

const Hints = v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(255)), v.unknown());

const DefaultGroup = v.pipe(
  v.string(),
  v.check((name) => name === 'default', 'only the default security group exists (no networking service yet)'),
);

const NoConfigDrive = v.pipe(
  NovaBoolean,
  v.check((wanted) => !wanted, 'config drives are not supported by the hypervisors here'),
);

const NoBlockDevices = v.never('block devices cannot be mapped: there is no block storage');

/**
 * What `networks` may hold at this microversion: a list of {uuid, port, fixed_ip} (a tag from 2.32,
 * dropped by mistake at 2.37 and restored at 2.42); from 2.37 the key is required, and may be "auto"
 * or "none" instead. The v3 handler checks the networks and ports exist (server-networks.ts).
 */
function networksSchema(minor: number) {
  const withTag = (minor >= 32 && minor < 37) || minor >= 42;
  const item = v.strictObject({
    uuid: v.optional(minor >= 37 ? v.pipe(v.string(), v.uuid('must be a network uuid')) : v.string()),
    port: v.optional(v.nullable(v.pipe(v.string(), v.uuid('must be a port uuid')))),
    fixed_ip: v.optional(v.pipe(v.string(), v.maxLength(64))),
    tag: v.optional(
      withTag
        ? v.pipe(v.string(), v.maxLength(60))
        : v.never('a network tag is not accepted at this microversion'),
    ),
  });
  if (minor < 37) return v.optional(v.array(item));
  return v.union(
    [v.array(item), v.picklist(['auto', 'none'])],
    'must be a list of {uuid, port, fixed_ip} items, "auto" or "none"',
  );
}

/** v2.1's networks in v3's form; before 2.37 a uuid that is not one is Nova's "Bad networks format". */
function v3Networks(networks: unknown) {
  if (!Array.isArray(networks)) return networks;
  return networks.map((item: { uuid?: string; port?: string | null; fixed_ip?: string; tag?: string }) => {
    if (item.uuid !== undefined && !v.is(v.pipe(v.string(), v.uuid()), item.uuid)) {
      throw new BadRequest(`Bad networks format: network uuid is not in proper format (${item.uuid})`);
    }
    return item;
  });
}

function createSchema(minor: number) {
  return v.strictObject({
    server: v.strictObject({
      name: ServerName,
      imageRef: ImageRef,
      flavorRef: FlavorRef,
      min_count: v.optional(Count),
      max_count: v.optional(Count),
      return_reservation_id: v.optional(NovaBoolean),
      availability_zone: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
      key_name: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
      metadata: v.optional(Metadata),
      user_data: v.optional(UserData),
      networks: networksSchema(minor),
      security_groups: v.optional(v.array(v.strictObject({ name: DefaultGroup }))),
      adminPass: v.optional(AdminPass),
      accessIPv4: v.optional(AccessIp),
      accessIPv6: v.optional(AccessIp),
      config_drive: v.optional(NoConfigDrive),
      'OS-DCF:diskConfig': v.optional(DiskConfig),
      block_device_mapping: v.optional(NoBlockDevices),
      block_device_mapping_v2: v.optional(NoBlockDevices),
      personality: v.optional(minor < 57 ? Personality : v.never('personality was removed in 2.57')),
      description: since(19, minor, Description),
      tags: since(52, minor, Tags),
      trusted_image_certificates: since(63, minor, TrustedCertificates),
      host: since(74, minor, Fqdn),
      hypervisor_hostname: since(74, minor, Fqdn),
      hostname: since(90, minor, hostnameSchema(minor)),
    }),
    // Scheduler hints are a sibling of `server`, under either name.
    'os:scheduler_hints': v.optional(Hints),
    'OS-SCH-HNT:scheduler_hints': v.optional(Hints),
  });
}

type V3Created =
  | { servers_reservation: { reservation_id: string } }
  | { server: { id: string; links: unknown; admin_password?: string; admin_pass?: string } };

const V3_CREATE = v3Route(serversExtension, 'post', '/v3/servers');

/** Creates the server(s); 202 with the new server (and its Location), or only the reservation id. */
export async function createServer(c: Context<AppEnv>, body: unknown): Promise<Response> {
  const request = parseOrBadRequest(createSchema(c.var.microversion), body);
  const { server } = request;
  let answer: V3Created;
  try {
    ({ body: answer } = await callV3<V3Created>(c, V3_CREATE, {
      body: {
        server: {
          name: server.name,
          image_ref: server.imageRef,
          flavor_ref: server.flavorRef,
          availability_zone: server.availability_zone,
          key_name: server.key_name,
          metadata: server.metadata,
          networks: v3Networks(server.networks),
          'os-user-data:user_data': server.user_data,
          'os-multiple-create:min_count': server.min_count,
          'os-multiple-create:max_count': server.max_count,
          'os-multiple-create:return_reservation_id': server.return_reservation_id,
          'os-scheduler-hints:scheduler_hints':
            request['os:scheduler_hints'] ?? request['OS-SCH-HNT:scheduler_hints'],
          // Before 2.19 Nova describes a server by its name.
          description: c.var.microversion >= 19 ? server.description : server.name,
          hostname: server.hostname,
          tags: server.tags,
          trusted_image_certificates: server.trusted_image_certificates,
          host: server.host,
          hypervisor_hostname: server.hypervisor_hostname,
        },
      },
    }));
  } catch (error) {
    // v2.1 refuses a create over quota with 403 (v3: 413 with Retry-After, which a 403 does not carry).
    if (!(error instanceof OverQuota)) throw error;
    c.header('Retry-After', undefined);
    throw new Forbidden(error.message);
  }
  if ('servers_reservation' in answer) {
    return c.json({ reservation_id: answer.servers_reservation.reservation_id }, 202);
  }
  const created = answer.server;
  return c.json(
    {
      server: {
        id: created.id,
        links: created.links,
        'OS-DCF:diskConfig': 'MANUAL',
        security_groups: [{ name: 'default' }],
        // As v3 does, the API only reports the password: the guest agent that sets it is future work.
        adminPass: server.adminPass ?? created.admin_password ?? created.admin_pass,
      },
    },
    202,
  );
}
