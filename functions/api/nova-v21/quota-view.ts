import type { Context } from 'hono';
import { isQuotaResource, QUOTA_RESOURCES } from '../../compute/quotas.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { atLeast } from './microversion.ts';

// Which quota resources v2.1's quota sets, quota classes and limits name at a microversion. v2.1 adds
// the server-group quotas to v3's resources; server groups are not served, so no quota is kept for
// them and they show Nova's defaults. 2.36 (quota sets) and 2.50 (quota classes) drop the network
// quotas, 2.57 the personality ones; quota classes name the server-group quotas only from 2.50.
export const SERVER_GROUP_QUOTAS = { server_groups: 10, server_group_members: 10 } as const;

const NETWORK_QUOTAS = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];
const PERSONALITY_QUOTAS = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

export interface QuotaFace {
  /** The microversion from which the network quotas are gone. */
  networkDroppedAt: number;
  /** The microversion from which the server-group quotas are shown. */
  serverGroupsFrom: number;
}

export const QUOTA_SET_FACE: QuotaFace = { networkDroppedAt: 36, serverGroupsFrom: 1 };
export const QUOTA_CLASS_FACE: QuotaFace = { networkDroppedAt: 50, serverGroupsFrom: 50 };

function dropped(c: Context<AppEnv>, face: QuotaFace): string[] {
  return [
    ...(atLeast(c, face.networkDroppedAt) ? NETWORK_QUOTAS : []),
    ...(atLeast(c, 57) ? PERSONALITY_QUOTAS : []),
  ];
}

/** The resources shown at the request's microversion, each with what `value` gives for it. */
export function quotaView<T>(
  c: Context<AppEnv>,
  face: QuotaFace,
  value: (resource: string) => T,
): Record<string, T> {
  const hidden = dropped(c, face);
  const resources = [
    ...QUOTA_RESOURCES,
    ...(atLeast(c, face.serverGroupsFrom) ? Object.keys(SERVER_GROUP_QUOTAS) : []),
  ];
  return Object.fromEntries(
    resources.filter((resource) => !hidden.includes(resource)).map((resource) => [resource, value(resource)]),
  );
}

function isServerGroupQuota(resource: string): resource is keyof typeof SERVER_GROUP_QUOTAS {
  return Object.hasOwn(SERVER_GROUP_QUOTAS, resource);
}

/** A limit from v3's answer, or the default of a server-group quota (which has none there). */
export function limitOf(limits: Record<string, unknown>, resource: string): unknown {
  return isServerGroupQuota(resource) ? SERVER_GROUP_QUOTAS[resource] : limits[resource];
}

const LIMIT = /^-?[0-9]+$/;
const MAX_QUOTA = 0x7fffffff;

/**
 * The limits an update body sets, validated as Nova's schema does at the request's microversion: only
 * the resources it names then (`extra` keys, e.g. `force`, pass through untouched), integers or digit
 * strings from -1 (unlimited) to 2^31-1. Setting a server-group quota is refused: none is kept.
 */
export function updatedLimits(
  c: Context<AppEnv>,
  face: QuotaFace,
  field: string,
  body: Record<string, unknown>,
  extra: readonly string[] = [],
): Record<string, unknown> {
  const hidden = dropped(c, face);
  const limits: Record<string, unknown> = {};
  for (const [resource, value] of Object.entries(body)) {
    if (extra.includes(resource)) {
      limits[resource] = value;
      continue;
    }
    const known = isServerGroupQuota(resource) || isQuotaResource(resource);
    if (!known || hidden.includes(resource)) {
      throw new BadRequest(
        `Invalid input for field/attribute ${field}. Additional properties are not allowed ('${resource}' was unexpected)`,
      );
    }
    const valid =
      (typeof value === 'number' && Number.isInteger(value)) ||
      (typeof value === 'string' && LIMIT.test(value));
    const limit = Number(value);
    if (!valid || limit < -1 || limit > MAX_QUOTA) {
      throw new BadRequest(
        `Invalid input for field/attribute ${field}.${resource}. Value: ${String(value)}. It must be an integer from -1 (unlimited) to ${MAX_QUOTA}`,
      );
    }
    if (isServerGroupQuota(resource)) {
      throw new BadRequest(
        `Invalid input for field/attribute ${field}.${resource}: server groups are not served, so no quota is kept for them`,
      );
    }
    limits[resource] = limit;
  }
  return limits;
}
