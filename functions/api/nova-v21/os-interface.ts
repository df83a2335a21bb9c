import type { Context } from 'hono';
import * as v from 'valibot';
import type { PortView } from '../../network/ports.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import {
  ATTACH_INTERFACES_ALIAS,
  attachInterface,
  attachmentView,
  detachInterface,
  InterfaceAttachment,
  listInterfaces,
  showInterface,
} from '../nova/os-attach-interfaces.ts';
import { route } from '../route.ts';
import { defineFace } from './face.ts';
import { atLeast } from './microversion.ts';
import { strictQuery } from './query.ts';
import { since } from './server-fields.ts';

// os-attach-interfaces under v2.1's names (os-interface, interfaceAttachment): the same functions do
// the work; this face adds the attach tag (2.49) and shows it (2.70).
const INTERFACES = '/v2.1/servers/:server_id/os-interface';
const DOC_INTERFACES = '/v2.1/servers/{server_id}/os-interface';

function attachSchema(minor: number) {
  return v.strictObject({
    interfaceAttachment: v.strictObject({
      ...InterfaceAttachment.entries,
      tag: since(49, minor, v.pipe(v.string(), v.minLength(1), v.maxLength(60))),
    }),
  });
}

function view(c: Context<AppEnv>, port: PortView, tag: string | null) {
  return { ...attachmentView(port), ...(atLeast(c, 70) ? { tag } : {}) };
}

const serverId = (c: Context<AppEnv>) => c.req.param('server_id') ?? '';

export const osInterfaceFace = defineFace({
  alias: ATTACH_INTERFACES_ALIAS,
  routes: [
    strictQuery(
      route({
        method: 'get',
        path: INTERFACES,
        summary: "List a server's interfaces",
        responses: { 200: 'interfaceAttachments' },
        handler: async (c) => {
          const { ports, tags } = await listInterfaces(c, serverId(c));
          return c.json({
            interfaceAttachments: ports.map((port) => view(c, port, tags.get(port.id) ?? null)),
          });
        },
      }),
      102,
    ),
    route({
      method: 'post',
      path: INTERFACES,
      summary: 'Attach an interface to a server',
      // Validated by the request's microversion (the tag from 2.49).
      body: v.unknown(),
      responses: { 200: 'interfaceAttachment' },
      handler: async (c, { body }) => {
        const { interfaceAttachment } = parseOrBadRequest(attachSchema(c.var.microversion), body);
        const { tag, ...request } = interfaceAttachment;
        const port = await attachInterface(c, serverId(c), request, tag);
        return c.json({ interfaceAttachment: view(c, port, tag ?? null) });
      },
    }),
    strictQuery(
      route({
        method: 'get',
        path: `${INTERFACES}/:port_id`,
        summary: 'Show one interface of a server',
        responses: { 200: 'interfaceAttachment' },
        handler: async (c) => {
          const { port, tag } = await showInterface(c, serverId(c), c.req.param('port_id') ?? '');
          return c.json({ interfaceAttachment: view(c, port, tag) });
        },
      }),
      102,
    ),
    route({
      method: 'delete',
      path: `${INTERFACES}/:port_id`,
      summary: 'Detach an interface from a server',
      responses: { 202: 'detach started' },
      handler: async (c) => {
        await detachInterface(c, serverId(c), c.req.param('port_id') ?? '');
        return c.body(null, 202);
      },
    }),
  ],
  microversions: [
    { minor: 49, change: 'attach takes a tag for the interface', routes: [DOC_INTERFACES] },
    {
      minor: 70,
      change: 'the interface views show their tag (null when none)',
      routes: [DOC_INTERFACES, `${DOC_INTERFACES}/{port_id}`],
    },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET',
      routes: [DOC_INTERFACES, `${DOC_INTERFACES}/{port_id}`],
    },
  ],
});
