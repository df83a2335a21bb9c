import * as v from 'valibot';
import { randomPassword } from '../../shared/encoding.ts';
import { BadRequest } from '../../shared/errors.ts';
import { requestedVersion } from '../middleware/extension-versions.ts';
import { defineExtension, type Extension } from './extension.ts';
import { defineAction, requireState, type ServerAction } from './server-action-kit.ts';
import { requireComputeHost, requireMigrationWorkflow, startMigration } from './server-moves.ts';

// Havana's os-evacuate: rebuild a server of a failed host elsewhere. The source host must be down.
const ALIAS = 'os-evacuate';
const VERSION = 2;

const evacuate = defineAction({
  name: 'evacuate',
  extension: ALIAS,
  body: v.object({
    host: v.optional(v.pipe(v.string(), v.minLength(1, 'host must name a compute host'), v.maxLength(255))),
    // Havana's samples send "True"/"False" strings; JSON booleans are the clean form.
    on_shared_storage: v.union([
      v.boolean(),
      v.pipe(
        v.picklist(['True', 'False', 'true', 'false'], 'on_shared_storage must be a boolean'),
        v.transform((text) => text.toLowerCase() === 'true'),
      ),
    ]),
    admin_password: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
    // Whether a named host is forced (up with room is enough; what version 1 always did) or must also
    // pass the scheduler's policy. Forcing needs a named host.
    force: v.optional(v.boolean()),
    // `stopped`: the rebuilt server ends stopped rather than running (Nova's compute 2.95); a server in
    // error ends running all the same, as in Nova.
    target_state: v.optional(v.picklist(['stopped'], "target_state must be 'stopped'")),
  }),
  policy: 'compute_extension:evacuate',
  run: async (c, instance, body) => {
    requireState(instance, 'evacuate_requested');
    requireMigrationWorkflow(c);
    if (!instance.host) throw new BadRequest(`Instance ${instance.uuid} is on no host`);
    if (
      (body.force !== undefined || body.target_state !== undefined) &&
      requestedVersion(c, { alias: ALIAS, version: VERSION }) < 2
    ) {
      throw new BadRequest(
        `evacuate.force and evacuate.target_state are accepted from ${ALIAS} version 2 on`,
      );
    }
    if (body.force && body.host === undefined) {
      throw new BadRequest("Can't force to a non-provided destination");
    }
    await requireComputeHost(c, instance.host, 'down');
    if (body.host !== undefined) {
      if (body.host === instance.host) throw new BadRequest('The target host is the host being evacuated');
      await requireComputeHost(c, body.host, 'up');
    }
    // On shared storage the guest keeps its disk, so its password too.
    const password = body.on_shared_storage ? undefined : (body.admin_password ?? randomPassword());
    await startMigration(c, instance, {
      event: 'evacuate_requested',
      action: 'evacuate',
      migration_type: 'evacuation',
      dest_compute: body.host ?? null,
      options: {
        on_shared_storage: body.on_shared_storage,
        force_host: body.force ?? true,
        stop_on_destination: body.target_state === 'stopped' && instance.vm_state !== 'error',
      },
    });
    return c.json({ admin_password: password ?? '' }, 200);
  },
});

export const EVACUATE_ACTIONS: ServerAction[] = [evacuate];

export const evacuateExtension: Extension = defineExtension({
  alias: ALIAS,
  name: 'Evacuate',
  description: 'Rebuild a server of a failed compute host on another host.',
  version: VERSION,
  core: false,
  history: [
    { version: 1, change: 'Havana v3: evacuate {host, on_shared_storage, admin_password}' },
    {
      version: 2,
      change:
        "force (false: a named host must pass the scheduler's policy too) and target_state 'stopped' (the rebuilt server ends stopped)",
    },
  ],
  routes: [],
});
