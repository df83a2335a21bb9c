import * as v from 'valibot';
import { randomPassword } from '../../shared/encoding.ts';
import { BadRequest, Conflict } from '../../shared/errors.ts';
import { loadServerForAction } from '../nova/server-action-kit.ts';
import { Description, TrustedCertificates, UserData } from '../nova/server-create-options.ts';
import { requireUnlocked } from '../nova/server-lock.ts';
import { defineV21Action, NullBody, type V21Action, v3Action } from './server-action-kit.ts';
import {
  AccessIp,
  AdminPass,
  DiskConfig,
  FlavorRef,
  hostnameSchema,
  ImageRef,
  Metadata,
  NameOrNull,
  Personality,
  ServerName,
  since,
} from './server-fields.ts';
import { serverViews, type V3Server } from './server-view.ts';

// The actions of Nova's servers controller, under their v2.1 names (clients-and-microversions.md §4.3).

const osStart = v3Action({ name: 'os-start', body: () => NullBody, v3Name: 'start' });

const osStop = v3Action({ name: 'os-stop', body: () => NullBody, v3Name: 'stop' });

const reboot = v3Action({
  name: 'reboot',
  body: () =>
    v.strictObject({
      type: v.pipe(v.string(), v.toUpperCase(), v.picklist(['HARD', 'SOFT'], 'type must be HARD or SOFT')),
    }),
  v3Name: 'reboot',
  v3Value: (_c, value) => ({ type: value.type }),
});

const resize = v3Action({
  name: 'resize',
  body: () => v.strictObject({ flavorRef: FlavorRef, 'OS-DCF:diskConfig': v.optional(DiskConfig) }),
  v3Name: 'resize',
  v3Value: (_c, value) => ({ flavor_ref: value.flavorRef }),
});

const confirmResize = v3Action({ name: 'confirmResize', body: () => NullBody, v3Name: 'confirm_resize' });

const revertResize = v3Action({ name: 'revertResize', body: () => NullBody, v3Name: 'revert_resize' });

const rebuild = v3Action({
  name: 'rebuild',
  body: (c) => {
    const minor = c.var.microversion;
    return v.strictObject({
      imageRef: ImageRef,
      name: v.optional(ServerName),
      adminPass: v.optional(AdminPass),
      metadata: v.optional(Metadata),
      accessIPv4: v.optional(AccessIp),
      accessIPv6: v.optional(AccessIp),
      'OS-DCF:diskConfig': v.optional(DiskConfig),
      preserve_ephemeral: v.optional(
        v.pipe(
          v.boolean(),
          v.check((preserve) => !preserve, 'preserve_ephemeral is not supported by the hypervisors here'),
        ),
      ),
      personality: v.optional(minor >= 57 ? v.never('personality was removed in 2.57') : Personality),
      description: since(19, minor, Description),
      key_name: since(54, minor, NameOrNull),
      user_data: since(57, minor, v.nullable(UserData)),
      trusted_image_certificates: since(63, minor, TrustedCertificates),
      hostname: since(90, minor, hostnameSchema(minor)),
    });
  },
  v3Name: 'rebuild',
  v3Value: (_c, value) => ({
    image_ref: value.imageRef,
    name: value.name,
    metadata: value.metadata,
    description: value.description,
    key_name: value.key_name,
    user_data: value.user_data,
    trusted_image_certificates: value.trusted_image_certificates,
    hostname: value.hostname,
  }),
  respond: async (c, answer, value) => {
    const { server } = answer.body as { server: V3Server };
    const [view] = await serverViews(c, [server], { db: c.var.db.$primary, single: true, rebuilt: true });
    // Like create, the API only reports the password: the guest agent that would set it is future work.
    return c.json({ server: { ...view, adminPass: value.adminPass ?? randomPassword() } }, 202);
  },
});

/**
 * There is no image upload, so no snapshot can be stored: once the server is found, the request is
 * refused as Nova refuses an image it cannot make (exception.Invalid → 400).
 */
function noImageUpload(name: 'createImage' | 'createBackup', body: v.GenericSchema): V21Action {
  return defineV21Action({
    name,
    body: () => body,
    run: async (c) => {
      await loadServerForAction(c, c.req.param('server_id') ?? '');
      throw new BadRequest(`${name} is not supported: this cloud has no image upload to store a snapshot in`);
    },
  });
}

const createImage = noImageUpload(
  'createImage',
  v.strictObject({ name: ServerName, metadata: v.optional(Metadata) }),
);

const createBackup = noImageUpload(
  'createBackup',
  v.strictObject({
    name: ServerName,
    backup_type: v.string(),
    rotation: v.union([
      v.pipe(v.number(), v.integer(), v.minValue(0)),
      v.pipe(v.string(), v.regex(/^\d+$/, 'rotation must be a non-negative integer')),
    ]),
    metadata: v.optional(Metadata),
  }),
);

/** The states Nova triggers a crash dump from (check_instance_state), with no task under way. */
const CRASH_DUMP_STATES = ['active', 'paused', 'resized', 'error'];

/**
 * An NMI into the guest. The fake hypervisor cannot send one, so after Nova's own checks (the server,
 * its lock, its state) the answer is Nova's for a hypervisor without the feature: 400. Any member may
 * ask for their own server (Nova's admin_or_owner), which the project-scoped lookup already ensures.
 */
const triggerCrashDump = defineV21Action({
  name: 'trigger_crash_dump',
  since: 17,
  body: () => NullBody,
  run: async (c) => {
    const instance = await loadServerForAction(c, c.req.param('server_id') ?? '');
    requireUnlocked(c.var.caller, instance);
    if (!CRASH_DUMP_STATES.includes(instance.vm_state) || instance.task_state !== null) {
      throw new Conflict(
        `Cannot 'trigger_crash_dump' instance ${instance.uuid} while it is in vm_state ${instance.vm_state}`,
      );
    }
    throw new BadRequest('Triggering crash dump is not supported');
  },
});

export const SERVER_CORE_V21_ACTIONS: V21Action[] = [
  osStart,
  osStop,
  reboot,
  resize,
  confirmResize,
  revertResize,
  rebuild,
  createImage,
  createBackup,
  triggerCrashDump,
];
