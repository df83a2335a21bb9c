import { and, count, eq, isNotNull } from 'drizzle-orm';
import * as v from 'valibot';
import {
  NETWORK_API_MODES,
  type NetworkApiMode,
  networkApiMode,
  recordNetworkApiMode,
} from '../functions/network/mode.ts';
import { cliDatabaseUrl } from '../schema/cli-database-url.ts';
import { createDatabase, type PrimaryDb } from '../schema/db.ts';
import { neutronNetworks, virtualInterfaces } from '../schema/tables/index.ts';

// `npm run network:mode -- nova-network|neutron` records which network API the deployment runs (the
// network_settings row, which wins over the NETWORK_API setting); with no argument it prints it.
// It refuses a switch that would strand what the other API holds: back to nova-network once the
// networking service has networks, or to the networking service while servers still have nova-network
// interfaces (those move with the migration workflow, which flips the mode itself at its cut-over).
// Talks to DATABASE_URL (a PlanetScale URL), or else to the running local cloud (`npm start`).

const USAGE = 'usage: npm run network:mode -- [nova-network|neutron]';

/** Why the deployment may not switch to `mode` now, or undefined when it may. */
async function refusal(db: PrimaryDb, mode: NetworkApiMode): Promise<string | undefined> {
  if (mode === 'nova-network') {
    const [networks] = await db.select({ count: count() }).from(neutronNetworks);
    const found = networks?.count ?? 0;
    return found > 0
      ? `the networking service has ${found} network(s): servers on them would lose their network under nova-network`
      : undefined;
  }
  const [vifs] = await db
    .select({ count: count() })
    .from(virtualInterfaces)
    .where(and(isNotNull(virtualInterfaces.instance_uuid), eq(virtualInterfaces.deleted, 0)));
  const inUse = vifs?.count ?? 0;
  return inUse > 0
    ? `${inUse} nova-network interface(s) are in use by servers: run the migration to the networking service, which switches the mode at its cut-over`
    : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length > 1) throw new Error(USAGE);
  const db = createDatabase({ primary: await cliDatabaseUrl(), replicas: [] }).$primary;
  const [wanted] = args;
  if (wanted === undefined) {
    // Unrecorded, the deployment runs its NETWORK_API setting: read it as the API would.
    const setting = v.parse(v.optional(v.picklist(NETWORK_API_MODES), 'neutron'), process.env.NETWORK_API);
    console.log(`network API: ${await networkApiMode(db, { NETWORK_API: setting })}`);
    return;
  }
  const mode = v.safeParse(v.picklist(NETWORK_API_MODES), wanted);
  if (!mode.success) throw new Error(`unknown mode ${wanted}\n${USAGE}`);
  const why = await refusal(db, mode.output);
  if (why) throw new Error(`refusing to switch to ${mode.output}: ${why}`);
  await recordNetworkApiMode(db, mode.output, 'network-mode tool');
  console.log(`network API: ${mode.output}`);
}

main().catch((error: Error) => {
  console.error(`network:mode failed: ${error.message}`);
  process.exit(1);
});
