import * as v from 'valibot';
import type { PrimaryDb } from '../../schema/db.ts';
import type { Reader } from './host-facts.ts';
import { type RequestSpec, RequestSpecSchema } from './request-spec.ts';
import { type Rejection, selectDestinations } from './select-destinations.ts';

// The scheduler as a queried resource: the admin dry run (POST /v3/os-scheduler/select-destinations)
// and the `scheduler.select` conductor step both answer with rankDestinations. Neither claims anything.

/** Hosts that can take the request best first, the policy that ranked them, and why the others failed. */
export interface RankedDestinations {
  policy: string;
  chosen_by: string;
  destinations: Array<{
    host: string;
    node: string;
    availability_zone: string;
    weight: number;
    weights: Record<string, number>;
  }>;
  rejected_hosts: Rejection[];
  rejected_hosts_truncated: boolean;
}

export interface RankOptions {
  limit: number;
  now: Date;
  serviceDownTimeSeconds: number;
}

export async function rankDestinations(
  db: Reader,
  spec: RequestSpec,
  options: RankOptions,
): Promise<RankedDestinations> {
  const decision = await selectDestinations(db, spec, { ...options, explain: true });
  return {
    policy: decision.choice.policy.name,
    chosen_by: decision.choice.chosenBy,
    destinations: decision.destinations.map(({ host, weight, weights }) => ({
      host: host.host,
      node: host.hypervisor_hostname,
      availability_zone: host.availability_zone,
      weight,
      weights,
    })),
    rejected_hosts: decision.rejections,
    rejected_hosts_truncated: decision.rejectionsTruncated,
  };
}

export const DESTINATIONS_LIMIT = v.optional(
  v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)),
  10,
);

const SelectInput = v.object({ request_spec: RequestSpecSchema, limit: DESTINATIONS_LIMIT });

/** What the step needs of the conductor's context (functions/conductor/context.ts). */
export interface SelectStepContext {
  db: PrimaryDb;
  config: { SERVICE_DOWN_TIME_SECONDS: number };
}

/** scheduler.select: ranks destinations for a request spec; input `{request_spec, limit?}`. */
export async function selectStep(ctx: SelectStepContext, input: unknown): Promise<RankedDestinations> {
  const { request_spec: spec, limit } = v.parse(SelectInput, input);
  return rankDestinations(ctx.db, spec, {
    limit,
    now: new Date(),
    serviceDownTimeSeconds: ctx.config.SERVICE_DOWN_TIME_SECONDS,
  });
}
