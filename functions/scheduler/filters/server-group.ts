import { hintString } from '../hints.ts';
import type { RequestSpec } from '../request-spec.ts';

/** The request's group and its placement rule; anti-affinity unless `group_policy` says affinity (Havana's legacy groups). */
export function requestedGroup(
  spec: RequestSpec,
): { name: string; policy: 'affinity' | 'anti-affinity' } | null {
  const name = hintString(spec.scheduler_hints.group);
  if (name === undefined) return null;
  return { name, policy: spec.scheduler_hints.group_policy === 'affinity' ? 'affinity' : 'anti-affinity' };
}
