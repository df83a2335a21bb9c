import { and, eq } from 'drizzle-orm';
import * as v from 'valibot';
import { flavorExtraSpecs, flavors } from '../../../../schema/tables/index.ts';
import { type RequestSpec, RequestSpecSchema } from '../../../scheduler/request-spec.ts';
import { DESTINATIONS_LIMIT, rankDestinations } from '../../../scheduler/select-step.ts';
import { BadRequest } from '../../../shared/errors.ts';
import { type Route, route } from '../../route.ts';
import { admin, type Ctx } from './shared.ts';

const DryRun = v.strictObject({
  request_spec: v.strictObject({
    ...RequestSpecSchema.entries,
    instance_uuid: v.optional(v.pipe(v.string(), v.uuid())),
    /** Fills memory, vcpus, disk and extra specs from a flavor; explicit fields win. */
    flavor_ref: v.optional(v.pipe(v.string(), v.minLength(1))),
    memory_mb: v.optional(RequestSpecSchema.entries.memory_mb),
    vcpus: v.optional(RequestSpecSchema.entries.vcpus),
    disk_gb: v.optional(RequestSpecSchema.entries.disk_gb),
  }),
  limit: DESTINATIONS_LIMIT,
});

type DryRunSpec = v.InferOutput<typeof DryRun>['request_spec'];

/** The dry run's request spec: a flavor named by flavor_ref fills resources and extra specs; explicit fields win. */
async function specFromDryRun(c: Ctx, input: DryRunSpec): Promise<RequestSpec> {
  const db = c.var.db.$primary;
  let fromFlavor = { memory_mb: 0, vcpus: 0, disk_gb: 0, name: undefined as string | undefined, specs: {} };
  if (input.flavor_ref !== undefined) {
    const [flavor] = await db
      .select()
      .from(flavors)
      .where(and(eq(flavors.flavorid, input.flavor_ref), eq(flavors.deleted, 0)));
    if (!flavor) throw new BadRequest(`flavor_ref: flavor ${input.flavor_ref} could not be found`);
    const specs = await db
      .select({ key: flavorExtraSpecs.key, value: flavorExtraSpecs.value })
      .from(flavorExtraSpecs)
      .where(and(eq(flavorExtraSpecs.flavor_id, flavor.id), eq(flavorExtraSpecs.deleted, 0)));
    fromFlavor = {
      memory_mb: flavor.memory_mb,
      vcpus: flavor.vcpus,
      disk_gb: flavor.root_gb + flavor.ephemeral_gb,
      name: flavor.name,
      specs: Object.fromEntries(specs.map((spec) => [spec.key, spec.value])),
    };
  }
  const { flavor_ref: _flavorRef, ...rest } = input;
  return {
    ...rest,
    instance_uuid: input.instance_uuid ?? crypto.randomUUID(),
    memory_mb: input.memory_mb ?? fromFlavor.memory_mb,
    vcpus: input.vcpus ?? fromFlavor.vcpus,
    disk_gb: input.disk_gb ?? fromFlavor.disk_gb,
    flavor_name: input.flavor_name ?? fromFlavor.name,
    flavor_extra_specs: { ...fromFlavor.specs, ...input.flavor_extra_specs },
  };
}

export const selectDestinationsRoutes: Route[] = [
  route({
    method: 'post',
    path: '/v3/os-scheduler/select-destinations',
    summary: 'Dry run: rank the hosts for a request spec and say why each other host fails (admin)',
    body: DryRun,
    responses: {
      200: 'policy, chosen_by, destinations [{host, node, availability_zone, weight, weights}], rejected_hosts [{host, node, filter, reason}], rejected_hosts_truncated',
    },
    handler: async (c, { body: { request_spec: input, limit } }) => {
      admin(c);
      const spec = await specFromDryRun(c, input);
      return c.json(
        await rankDestinations(c.var.db.$primary, spec, {
          limit,
          now: new Date(),
          serviceDownTimeSeconds: c.var.config.SERVICE_DOWN_TIME_SECONDS,
        }),
      );
    },
  }),
];
