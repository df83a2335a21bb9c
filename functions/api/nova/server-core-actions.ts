import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import { instances } from '../../../schema/tables/index.ts';
import { flavorSnapshot } from '../../compute/flavor-snapshot.ts';
import {
  ensureUsageRows,
  projectLimits,
  releaseQuota,
  reserveQuota,
  resizeQuotaDeltas,
} from '../../compute/quotas.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import { findVisibleFlavor } from './flavors.ts';
import {
  defineAction,
  NoBody,
  type RequestedColumns,
  requestHostAction,
  requireState,
  type ServerAction,
} from './server-action-kit.ts';
import {
  checkKeyName,
  Description,
  Fqdn,
  TrustedCertificates,
  takesLaterAttributes,
  UserData,
} from './server-create-options.ts';
import { decideResize, requireMigrationWorkflow, startMigration } from './server-moves.ts';
import { serverDetail } from './server-view.ts';

// The actions Havana's `servers` plugin itself provides (nova-havana.md §1.5).

const RefSegment = v.pipe(
  v.string(),
  v.transform((ref) => ref.split('/').pop() ?? ''),
);

const Metadata = v.pipe(
  v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(255)), v.pipe(v.string(), v.maxLength(255))),
  v.check((metadata) => Object.keys(metadata).length <= 128, 'at most 128 metadata items'),
);

const reboot = defineAction({
  name: 'reboot',
  extension: 'servers',
  body: v.object({ type: v.picklist(['SOFT', 'HARD'], 'type must be SOFT or HARD') }),
  policy: 'compute:reboot',
  run: async (c, instance, body) => {
    await requestHostAction(
      c,
      instance,
      'reboot',
      body.type === 'HARD' ? 'hard_reboot_requested' : 'reboot_requested',
    );
    return c.body(null, 202);
  },
});

const start = defineAction({
  name: 'start',
  extension: 'servers',
  body: NoBody,
  policy: 'compute:start',
  run: async (c, instance) => {
    await requestHostAction(c, instance, 'start', 'start_requested');
    return c.body(null, 202);
  },
});

const stop = defineAction({
  name: 'stop',
  extension: 'servers',
  body: NoBody,
  policy: 'compute:stop',
  run: async (c, instance) => {
    await requestHostAction(c, instance, 'stop', 'stop_requested');
    return c.body(null, 202);
  },
});

const rebuild = defineAction({
  name: 'rebuild',
  extension: 'servers',
  body: v.object({
    image_ref: v.pipe(RefSegment, v.uuid('image_ref must be an image uuid or an href ending in one')),
    name: v.optional(
      v.pipe(v.string(), v.trim(), v.minLength(1, 'name must not be empty'), v.maxLength(255)),
    ),
    metadata: v.optional(Metadata),
    // Version 3 (a pinned older version ignores them); null removes the key pair, user data or certificates.
    description: v.optional(Description),
    hostname: v.optional(Fqdn),
    key_name: v.optional(v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(255)))),
    user_data: v.optional(v.nullable(UserData)),
    trusted_image_certificates: v.optional(TrustedCertificates),
  }),
  policy: 'compute:rebuild',
  run: async (c, instance, body) => {
    const later: Partial<typeof body> = takesLaterAttributes(c) ? body : {};
    if (later.key_name) await checkKeyName(c.var.db.$primary, c.var.caller, later.key_name);
    const columns: RequestedColumns = {
      image_ref: body.image_ref,
      ...(body.name === undefined ? {} : { display_name: body.name }),
      ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
      ...(later.description === undefined ? {} : { description: later.description }),
      ...(later.hostname === undefined ? {} : { hostname: later.hostname }),
      ...(later.key_name === undefined ? {} : { key_name: later.key_name }),
      ...(later.user_data === undefined ? {} : { user_data: later.user_data }),
      ...(later.trusted_image_certificates === undefined
        ? {}
        : { trusted_image_certificates: later.trusted_image_certificates }),
    };
    // requestHostAction writes every column it is given with the task state.
    await requestHostAction(c, instance, 'rebuild', 'rebuild_requested', columns);
    const [rebuilt] = await c.var.db.$primary
      .select()
      .from(instances)
      .where(eq(instances.uuid, instance.uuid));
    return c.json({ server: await serverDetail(c, rebuilt ?? instance, undefined) }, 202);
  },
});

const resize = defineAction({
  name: 'resize',
  extension: 'servers',
  body: v.object({ flavor_ref: v.pipe(RefSegment, v.minLength(1, 'flavor_ref must name a flavor')) }),
  policy: 'compute:resize',
  run: async (c, instance, body) => {
    requireState(instance, 'resize_requested');
    // The same visibility as GET /v3/flavors: a private flavor only for projects given access.
    const flavor = await findVisibleFlavor(c.var.db.$primary, c.var.caller, body.flavor_ref).catch(
      (error: unknown) => {
        if (error instanceof NotFound) {
          throw new BadRequest(`Invalid flavor_ref provided: flavor ${body.flavor_ref} could not be found`);
        }
        throw error;
      },
    );
    if (flavor.disabled) throw new BadRequest(`Flavor ${body.flavor_ref} is disabled`);
    if (flavor.flavorid === instance.flavor.flavorid) {
      throw new BadRequest('When resizing, instances must change flavor!');
    }
    requireMigrationWorkflow(c);
    // A bigger flavor takes its extra cores and RAM from the project's quota now (413 when over);
    // the conductor gives them back if the resize is reverted or fails.
    const db = c.var.db.$primary;
    const { growth } = resizeQuotaDeltas(instance.flavor, flavor);
    await ensureUsageRows(db, instance.project_id, ['cores', 'ram']);
    const limits = await projectLimits(db, instance.project_id);
    await db.transaction((tx) => reserveQuota(tx, instance.project_id, growth, limits));
    try {
      await startMigration(c, instance, {
        event: 'resize_requested',
        action: 'resize',
        migration_type: 'resize',
        new_flavor: flavorSnapshot(flavor),
      });
    } catch (error) {
      await releaseQuota(db, instance.project_id, growth);
      throw error;
    }
    return c.body(null, 202);
  },
});

/** confirm/revert act on the move that left the server in VERIFY_RESIZE: its `finished` row. */
function finishResize(name: 'confirm_resize' | 'revert_resize') {
  return defineAction({
    name,
    extension: 'servers',
    body: NoBody,
    policy: name === 'confirm_resize' ? 'compute:confirm_resize' : 'compute:revert_resize',
    run: async (c, instance) => {
      await decideResize(c, instance, name);
      return c.body(null, name === 'confirm_resize' ? 204 : 202);
    },
  });
}

export const SERVER_CORE_ACTIONS: ServerAction[] = [
  reboot,
  start,
  stop,
  rebuild,
  resize,
  finishResize('confirm_resize'),
  finishResize('revert_resize'),
];
