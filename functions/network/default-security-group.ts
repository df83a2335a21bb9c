import { eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import {
  neutronDefaultSecurityGroups,
  neutronSecurityGroupRules,
  neutronSecurityGroups,
} from '../../schema/tables/index.ts';
import { isDuplicateKey } from '../shared/errors.ts';
import { ensureNetworkUsageRow, reserveNetworkQuota } from './quotas.ts';

// Every project has a security group named `default`, made the first time anything of the project
// needs it (Neutron does the same). Its rules let everything out and let in only traffic from ports
// of the same group, for IPv4 and IPv6. Two first requests may race: the group is written together
// with its claim in neutron_default_security_groups (keyed by project), so exactly one wins and the
// loser's transaction, group and rules included, rolls back.

export const DEFAULT_SECURITY_GROUP_NAME = 'default';

async function findDefault(db: PrimaryDb, projectId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ uuid: neutronDefaultSecurityGroups.security_group_uuid })
    .from(neutronDefaultSecurityGroups)
    .where(eq(neutronDefaultSecurityGroups.project_id, projectId));
  return row?.uuid;
}

/** The uuid of the project's default security group, made now if the project has none yet. */
export async function ensureDefaultSecurityGroup(db: PrimaryDb, projectId: string): Promise<string> {
  const existing = await findDefault(db, projectId);
  if (existing) return existing;
  await ensureNetworkUsageRow(db, projectId, 'security_group');
  await ensureNetworkUsageRow(db, projectId, 'security_group_rule');
  const groupUuid = crypto.randomUUID();
  const now = new Date();
  const rule = (direction: 'ingress' | 'egress', ethertype: 'IPv4' | 'IPv6') => ({
    uuid: crypto.randomUUID(),
    security_group_uuid: groupUuid,
    project_id: projectId,
    direction,
    ethertype,
    remote_group_uuid: direction === 'ingress' ? groupUuid : null,
    created_at: now,
  });
  try {
    await db.transaction(async (tx) => {
      await tx
        .insert(neutronDefaultSecurityGroups)
        .values({ project_id: projectId, security_group_uuid: groupUuid });
      await tx.insert(neutronSecurityGroups).values({
        uuid: groupUuid,
        project_id: projectId,
        name: DEFAULT_SECURITY_GROUP_NAME,
        description: 'Default security group',
        created_at: now,
      });
      await tx
        .insert(neutronSecurityGroupRules)
        .values([
          rule('egress', 'IPv4'),
          rule('egress', 'IPv6'),
          rule('ingress', 'IPv4'),
          rule('ingress', 'IPv6'),
        ]);
      // Counted as Neutron counts them, so that deleting one of these rules gives back what it took;
      // never refused, as a project must always have its default group.
      await reserveNetworkQuota(tx, projectId, 'security_group', -1, { enforce: false });
      await reserveNetworkQuota(tx, projectId, 'security_group_rule', -1, { amount: 4, enforce: false });
    });
    return groupUuid;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const winner = await findDefault(db, projectId);
    if (!winner) throw error;
    return winner;
  }
}
