import type { Context } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../context.ts';
import { defineFace } from './face.ts';
import { atLeast } from './microversion.ts';
import { type V21Action, v3Action } from './server-action-kit.ts';
import { AdminPass, HostName, NovaBoolean } from './server-fields.ts';
import { answerWith } from './v3-call.ts';

// os-evacuate's action under its v2.1 names (clients-and-microversions.md §4.3). Before 2.14 the
// caller says whether the failed host's disks are on shared storage and gets the new password back;
// from 2.14 Nova finds out for itself and answers nothing. No two hosts here share storage, so the
// guest is always rebuilt from its image on the new host. A named host is forced before 2.29, as Nova
// forced it; from 2.29 only when `force` says so, and from 2.68 never: the scheduler's policy must
// accept it. From 2.95 the rebuilt server ends stopped (one in error ends running, as in Nova).
function evacuateBody(c: Context<AppEnv>) {
  const entries = { host: v.optional(HostName), adminPass: v.optional(AdminPass) };
  if (atLeast(c, 29) && !atLeast(c, 68))
    return v.strictObject({ ...entries, force: v.optional(NovaBoolean) });
  return v.strictObject(entries);
}

const evacuate = v3Action({
  name: 'evacuate',
  body: (c) =>
    atLeast(c, 14)
      ? evacuateBody(c)
      : v.pipe(
          v.strictObject({
            host: v.optional(HostName),
            onSharedStorage: NovaBoolean,
            adminPass: v.optional(AdminPass),
          }),
          v.check(
            (body) => !(body.onSharedStorage && body.adminPass !== undefined),
            "admin password can't be changed on existing disk",
          ),
        ),
  v3Name: 'evacuate',
  v3Value: (c, value) => ({
    host: value.host,
    on_shared_storage: 'onSharedStorage' in value ? value.onSharedStorage : false,
    admin_password: value.adminPass,
    ...(atLeast(c, 29) ? { force: ('force' in value && value.force) || false } : {}),
    ...(atLeast(c, 95) ? { target_state: 'stopped' } : {}),
  }),
  respond: (c, answer) => {
    if (atLeast(c, 14)) return answerWith(c, 200, null);
    // On shared storage the guest keeps its disk and so its password: Nova answers null.
    const { admin_password: password } = answer.body as { admin_password: string };
    return c.json({ adminPass: password || null }, 200);
  },
});

export const EVACUATE_V21_ACTIONS: V21Action[] = [evacuate];

export const evacuateFace = defineFace({
  alias: 'os-evacuate',
  routes: [],
  microversions: [
    {
      minor: 14,
      change:
        'evacuate: onSharedStorage is refused (no two hosts share storage: the guest is rebuilt from its image) and the answer is an empty 200',
      routes: ['/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 29,
      change:
        "evacuate: force (default false); a named host is forced (up with room is enough) only when asked, else the scheduler's policy must accept it; forcing needs a host",
      routes: ['/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 68,
      change:
        "evacuate: force is refused (400); a named host must pass the scheduler's policy (os-evacuate part)",
      routes: ['/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 95,
      change: 'evacuate: the rebuilt server ends stopped (SHUTOFF); one in error ends ACTIVE, as in Nova',
      routes: ['/v2.1/servers/{server_id}/action'],
    },
  ],
});
