import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Context } from 'hono';
import type { PrimaryDb } from '../../../schema/db.ts';
import { flavorExtraSpecs } from '../../../schema/tables/index.ts';
import type { AppEnv } from '../context.ts';
import { resourceLinks } from '../links.ts';
import type { FlavorRow } from '../nova/flavors.ts';
import { isAllowed } from '../policy.ts';
import { atLeast } from './microversion.ts';

// The v2.1 flavor views (clients-and-microversions.md §4.4). Havana's core ephemeral/disabled fields
// carry their v2 extension prefixes, and what v3 adds only through os-flavor-rxtx and os-flavor-access
// is always there: v2.1 has no optional extensions. From 2.55 every view, the list's too, shows the
// description (null when the flavor has none); swap 0 shows as "" before 2.75; 2.102 drops rxtx_factor
// and OS-FLV-DISABLED:disabled; from 2.61 the view embeds the flavor's extra specs for callers allowed
// to list them.

/** The list (`GET /flavors`) view. */
export function briefFlavorView(c: Context<AppEnv>, flavor: FlavorRow) {
  const view = {
    id: flavor.flavorid,
    name: flavor.name,
    links: resourceLinks(c, 'flavors', flavor.flavorid),
  };
  return atLeast(c, 55) ? { ...view, description: flavor.description } : view;
}

/** The detail, show, create and update view; `extraSpecs` only where `readableExtraSpecs` gave them. */
function flavorView(c: Context<AppEnv>, flavor: FlavorRow, extraSpecs?: Record<string, string>) {
  const view: Record<string, unknown> = {
    id: flavor.flavorid,
    name: flavor.name,
    ram: flavor.memory_mb,
    disk: flavor.root_gb,
    swap: atLeast(c, 75) ? flavor.swap : flavor.swap || '',
    'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral_gb,
    'OS-FLV-DISABLED:disabled': flavor.disabled,
    vcpus: flavor.vcpus,
    'os-flavor-access:is_public': flavor.is_public,
    rxtx_factor: flavor.rxtx_factor,
    links: resourceLinks(c, 'flavors', flavor.flavorid),
  };
  if (atLeast(c, 55)) view.description = flavor.description;
  if (extraSpecs) view.extra_specs = extraSpecs;
  if (atLeast(c, 102)) {
    delete view['OS-FLV-DISABLED:disabled'];
    delete view.rxtx_factor;
  }
  return view;
}

/**
 * The extra specs of each flavor (by row id), in one query, when the view shows them: from 2.61, to
 * callers the flavor-extra-specs index policy lets list them. Undefined when it does not.
 */
async function readableExtraSpecs(
  c: Context<AppEnv>,
  db: Pick<PrimaryDb, 'select'>,
  flavorRows: FlavorRow[],
): Promise<Map<number, Record<string, string>> | undefined> {
  if (!atLeast(c, 61) || !isAllowed(c.var.caller, 'compute_extension:flavor-extra-specs:index')) {
    return undefined;
  }
  const specs = new Map(flavorRows.map((flavor): [number, Record<string, string>] => [flavor.id, {}]));
  if (flavorRows.length === 0) return specs;
  const rows = await db
    .select({
      flavor_id: flavorExtraSpecs.flavor_id,
      key: flavorExtraSpecs.key,
      value: flavorExtraSpecs.value,
    })
    .from(flavorExtraSpecs)
    .where(and(inArray(flavorExtraSpecs.flavor_id, [...specs.keys()]), eq(flavorExtraSpecs.deleted, 0)))
    .orderBy(asc(flavorExtraSpecs.key));
  for (const row of rows) {
    const forFlavor = specs.get(row.flavor_id);
    if (forFlavor) forFlavor[row.key] = row.value;
  }
  return specs;
}

/** Detail views of `flavorRows`, with their extra specs where the caller sees them. */
export async function flavorViews(
  c: Context<AppEnv>,
  db: Pick<PrimaryDb, 'select'>,
  flavorRows: FlavorRow[],
) {
  const specs = await readableExtraSpecs(c, db, flavorRows);
  return flavorRows.map((flavor) => flavorView(c, flavor, specs?.get(flavor.id)));
}
