import { asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { PrimaryDb, PrimaryWriter } from '../../schema/db.ts';
import {
  neutronDefaultSecurityGroups,
  neutronPortSecurityGroups,
  neutronSecurityGroupRules,
  neutronSecurityGroups,
} from '../../schema/tables/index.ts';
import { DEFAULT_SECURITY_GROUP_NAME, ensureDefaultSecurityGroup } from './default-security-group.ts';
import { NetworkError, securityGroupNotFound } from './errors.ts';
import type { NetworkCaller } from './networks.ts';
import { neutronTime } from './ports.ts';
import {
  ensureNetworkUsageRow,
  networkQuotaLimits,
  releaseNetworkQuota,
  reserveNetworkQuota,
} from './quotas.ts';
import { ownsResource } from './resource-owner.ts';
import {
  canonicalRuleFields,
  type RuleFields,
  type RuleFieldsInput,
  ruleIdentity,
} from './security-group-rule-fields.ts';

// Security groups and their rules. A group's rules change one at a time under the group's row lock
// (each change bumps the group's revision first), so duplicate detection reads a settled set of rules;
// a group is deleted only while no port holds it (ports.ts takes a share lock on the groups of a port
// it creates), and its rules, and the rules of other groups that name it as their remote group, go
// with it. Quotas: the project's default group and its four rules count like any other (Neutron counts
// them too), and a new group's two egress rules count without being refused.

export type SecurityGroupRow = typeof neutronSecurityGroups.$inferSelect;
export type SecurityGroupRuleRow = typeof neutronSecurityGroupRules.$inferSelect;
type Reader = Pick<PrimaryDb, 'select'>;

export const securityGroupRuleNotFound = (id: string) =>
  new NetworkError(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);

export function securityGroupRuleView(rule: SecurityGroupRuleRow) {
  return {
    id: rule.uuid,
    tenant_id: rule.project_id,
    project_id: rule.project_id,
    security_group_id: rule.security_group_uuid,
    direction: rule.direction,
    ethertype: rule.ethertype,
    protocol: rule.protocol,
    port_range_min: rule.port_range_min,
    port_range_max: rule.port_range_max,
    remote_ip_prefix: rule.remote_ip_prefix,
    normalized_cidr: rule.remote_ip_prefix,
    remote_group_id: rule.remote_group_uuid,
    remote_address_group_id: null,
    description: rule.description,
    tags: [],
    created_at: neutronTime(rule.created_at),
    updated_at: neutronTime(rule.updated_at ?? rule.created_at),
    revision_number: rule.revision_number,
  };
}
export type SecurityGroupRuleView = ReturnType<typeof securityGroupRuleView>;

export function securityGroupView(group: SecurityGroupRow, rules: readonly SecurityGroupRuleRow[]) {
  return {
    id: group.uuid,
    name: group.name,
    description: group.description,
    tenant_id: group.project_id,
    project_id: group.project_id,
    stateful: group.stateful,
    security_group_rules: rules.map(securityGroupRuleView),
    tags: [],
    created_at: neutronTime(group.created_at),
    updated_at: neutronTime(group.updated_at ?? group.created_at),
    revision_number: group.revision_number,
  };
}
export type SecurityGroupView = ReturnType<typeof securityGroupView>;

/** The views of `groups`, their rules read in one query. */
export async function securityGroupViews(
  db: Reader,
  groups: readonly SecurityGroupRow[],
): Promise<SecurityGroupView[]> {
  if (groups.length === 0) return [];
  const rules = await db
    .select()
    .from(neutronSecurityGroupRules)
    .where(
      inArray(
        neutronSecurityGroupRules.security_group_uuid,
        groups.map((group) => group.uuid),
      ),
    )
    .orderBy(asc(neutronSecurityGroupRules.id));
  return groups.map((group) =>
    securityGroupView(
      group,
      rules.filter((rule) => rule.security_group_uuid === group.uuid),
    ),
  );
}

export async function findSecurityGroup(db: Reader, uuid: string, caller: NetworkCaller) {
  const [group] = await db.select().from(neutronSecurityGroups).where(eq(neutronSecurityGroups.uuid, uuid));
  if (!group || !ownsResource(caller, group.project_id)) throw securityGroupNotFound(uuid);
  return group;
}

export async function findSecurityGroupRule(db: Reader, uuid: string, caller: NetworkCaller) {
  const [rule] = await db
    .select()
    .from(neutronSecurityGroupRules)
    .where(eq(neutronSecurityGroupRules.uuid, uuid));
  if (!rule || !ownsResource(caller, rule.project_id)) throw securityGroupRuleNotFound(uuid);
  return rule;
}

async function isDefaultGroup(db: Reader, group: SecurityGroupRow): Promise<boolean> {
  const [row] = await db
    .select({ uuid: neutronDefaultSecurityGroups.security_group_uuid })
    .from(neutronDefaultSecurityGroups)
    .where(eq(neutronDefaultSecurityGroups.project_id, group.project_id));
  return row?.uuid === group.uuid;
}

export interface SecurityGroupCreate {
  project_id: string;
  name: string;
  description?: string;
  stateful?: boolean;
}

/** Creates a group with Neutron's two default egress rules (every address, IPv4 and IPv6). */
export async function createSecurityGroup(db: PrimaryDb, input: SecurityGroupCreate) {
  // A project's `default` group is made once, on first use: asking for another one by name is a conflict.
  await ensureDefaultSecurityGroup(db, input.project_id);
  if (input.name === DEFAULT_SECURITY_GROUP_NAME) {
    throw new NetworkError(
      409,
      'SecurityGroupDefaultAlreadyExists',
      'Default security group already exists.',
    );
  }
  await ensureNetworkUsageRow(db, input.project_id, 'security_group');
  await ensureNetworkUsageRow(db, input.project_id, 'security_group_rule');
  const limits = await networkQuotaLimits(db, input.project_id);
  const now = new Date();
  const group: SecurityGroupRow = {
    id: 0,
    uuid: crypto.randomUUID(),
    project_id: input.project_id,
    name: input.name,
    description: input.description ?? '',
    stateful: input.stateful ?? true,
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  const rules: SecurityGroupRuleRow[] = (['IPv4', 'IPv6'] as const).map((ethertype) => ({
    id: 0,
    uuid: crypto.randomUUID(),
    security_group_uuid: group.uuid,
    project_id: input.project_id,
    description: '',
    direction: 'egress',
    ethertype,
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_uuid: null,
    revision_number: 0,
    created_at: now,
    updated_at: now,
  }));
  await db.transaction(async (tx) => {
    const { id: _group, ...groupValues } = group;
    await tx.insert(neutronSecurityGroups).values(groupValues);
    await tx.insert(neutronSecurityGroupRules).values(rules.map(({ id: _rule, ...values }) => values));
    await reserveNetworkQuota(tx, input.project_id, 'security_group', limits.security_group);
    await reserveNetworkQuota(tx, input.project_id, 'security_group_rule', limits.security_group_rule, {
      amount: rules.length,
      enforce: false,
    });
  });
  return securityGroupView(group, rules);
}

export interface SecurityGroupUpdate {
  name?: string;
  description?: string;
  stateful?: boolean;
}

export async function updateSecurityGroup(
  db: PrimaryDb,
  uuid: string,
  caller: NetworkCaller,
  change: SecurityGroupUpdate,
): Promise<SecurityGroupView> {
  const group = await findSecurityGroup(db, uuid, caller);
  if (change.name !== undefined && change.name !== group.name && (await isDefaultGroup(db, group))) {
    throw new NetworkError(
      409,
      'SecurityGroupCannotUpdateDefault',
      'Updating default security group not allowed.',
    );
  }
  if (change.name === DEFAULT_SECURITY_GROUP_NAME && group.name !== DEFAULT_SECURITY_GROUP_NAME) {
    throw new NetworkError(
      409,
      'SecurityGroupDefaultAlreadyExists',
      'Default security group already exists.',
    );
  }
  const result = await db
    .update(neutronSecurityGroups)
    .set({
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.description !== undefined ? { description: change.description } : {}),
      ...(change.stateful !== undefined ? { stateful: change.stateful } : {}),
      revision_number: sql`${neutronSecurityGroups.revision_number} + 1`,
      updated_at: new Date(),
    })
    .where(eq(neutronSecurityGroups.uuid, uuid));
  if (result.rowsAffected !== 1) throw securityGroupNotFound(uuid);
  const [view] = await securityGroupViews(db, [await findSecurityGroup(db, uuid, caller)]);
  if (!view) throw securityGroupNotFound(uuid);
  return view;
}

/**
 * Deletes a group, its rules and the rules that name it as their remote group, with their quota, in
 * one transaction; 409 while a port holds it. A project's default group goes only with an admin.
 */
export async function deleteSecurityGroup(db: PrimaryDb, uuid: string, caller: NetworkCaller): Promise<void> {
  const group = await findSecurityGroup(db, uuid, caller);
  const isDefault = await isDefaultGroup(db, group);
  if (isDefault && !caller.isAdmin) {
    throw new NetworkError(
      409,
      'SecurityGroupCannotRemoveDefault',
      'Removing default security group not allowed.',
    );
  }
  await db.transaction(async (tx) => {
    // The row lock first: port creates hold a share lock on the groups they attach until they commit,
    // so once this has it, the ports read below are all the ports that will ever hold the group.
    const [locked] = await tx
      .select({ uuid: neutronSecurityGroups.uuid })
      .from(neutronSecurityGroups)
      .where(eq(neutronSecurityGroups.uuid, uuid))
      .for('update');
    if (!locked) throw securityGroupNotFound(uuid);
    const [holder] = await tx
      .select({ port_uuid: neutronPortSecurityGroups.port_uuid })
      .from(neutronPortSecurityGroups)
      .where(eq(neutronPortSecurityGroups.security_group_uuid, uuid))
      .limit(1)
      .for('update');
    if (holder) {
      throw new NetworkError(409, 'SecurityGroupInUse', `Security Group ${uuid} in use.`);
    }
    // Read after the lock: a rule naming this group locks it too (lockGroupsForRuleChange), so every
    // such rule has committed by now, and none can be added after. Deleted by id, so that no
    // unindexed scan locks the whole rules table.
    const rules = await tx
      .select({ uuid: neutronSecurityGroupRules.uuid })
      .from(neutronSecurityGroupRules)
      .where(
        or(
          eq(neutronSecurityGroupRules.security_group_uuid, uuid),
          eq(neutronSecurityGroupRules.remote_group_uuid, uuid),
        ),
      );
    const removedRules =
      rules.length === 0
        ? 0
        : (
            await tx.delete(neutronSecurityGroupRules).where(
              inArray(
                neutronSecurityGroupRules.uuid,
                rules.map((rule) => rule.uuid),
              ),
            )
          ).rowsAffected;
    await tx.delete(neutronSecurityGroups).where(eq(neutronSecurityGroups.uuid, uuid));
    if (isDefault) {
      await tx
        .delete(neutronDefaultSecurityGroups)
        .where(eq(neutronDefaultSecurityGroups.security_group_uuid, uuid));
    }
    await releaseNetworkQuota(tx, group.project_id, 'security_group');
    if (removedRules > 0) {
      await releaseNetworkQuota(tx, group.project_id, 'security_group_rule', removedRules);
    }
  });
}

/**
 * Locks the rows of the groups a rule change involves (its group, and its remote group) by bumping
 * their revisions in one UPDATE, which takes them in index order, so that two rule changes naming the
 * same groups the other way round cannot deadlock. Rule changes of one group run one at a time; a
 * remote group being deleted waits for the rule, or the rule finds it gone. False when one is gone.
 */
async function lockGroupsForRuleChange(tx: PrimaryWriter, groupUuids: readonly string[]): Promise<boolean> {
  const distinct = [...new Set(groupUuids)];
  const result = await tx
    .update(neutronSecurityGroups)
    .set({ revision_number: sql`${neutronSecurityGroups.revision_number} + 1`, updated_at: new Date() })
    .where(inArray(neutronSecurityGroups.uuid, distinct));
  return result.rowsAffected === distinct.length;
}

export interface SecurityGroupRuleCreate extends RuleFieldsInput {
  security_group_id: string;
  description?: string;
}

function fieldsOf(rule: SecurityGroupRuleRow): RuleFields {
  return {
    direction: rule.direction as RuleFields['direction'],
    ethertype: rule.ethertype as RuleFields['ethertype'],
    protocol: rule.protocol,
    port_range_min: rule.port_range_min,
    port_range_max: rule.port_range_max,
    remote_ip_prefix: rule.remote_ip_prefix,
    remote_group_id: rule.remote_group_uuid,
  };
}

/**
 * Adds a rule to a group the caller owns (an admin: any group; the rule belongs to the group's
 * project). 409 SecurityGroupRuleExists naming the rule already there when the group has the same one.
 */
export async function createSecurityGroupRule(
  db: PrimaryDb,
  input: SecurityGroupRuleCreate,
  caller: NetworkCaller,
): Promise<SecurityGroupRuleView> {
  const fields = canonicalRuleFields(input);
  const group = await findSecurityGroup(db, input.security_group_id, caller);
  if (fields.remote_group_id !== null)
    await findSecurityGroup(db, fields.remote_group_id, { projectId: group.project_id, isAdmin: false });
  await ensureNetworkUsageRow(db, group.project_id, 'security_group_rule');
  const limit = (await networkQuotaLimits(db, group.project_id)).security_group_rule;
  const now = new Date();
  const rule: SecurityGroupRuleRow = {
    id: 0,
    uuid: crypto.randomUUID(),
    security_group_uuid: group.uuid,
    project_id: group.project_id,
    description: input.description ?? '',
    direction: fields.direction,
    ethertype: fields.ethertype,
    protocol: fields.protocol,
    port_range_min: fields.port_range_min,
    port_range_max: fields.port_range_max,
    remote_ip_prefix: fields.remote_ip_prefix,
    remote_group_uuid: fields.remote_group_id,
    revision_number: 0,
    created_at: now,
    updated_at: now,
  };
  await db.transaction(async (tx) => {
    const involved = fields.remote_group_id === null ? [group.uuid] : [group.uuid, fields.remote_group_id];
    if (!(await lockGroupsForRuleChange(tx, involved))) {
      throw securityGroupNotFound(fields.remote_group_id ?? group.uuid);
    }
    const existing = await tx
      .select()
      .from(neutronSecurityGroupRules)
      .where(eq(neutronSecurityGroupRules.security_group_uuid, group.uuid))
      .for('update');
    const identity = ruleIdentity(fields);
    const same = existing.find((candidate) => ruleIdentity(fieldsOf(candidate)) === identity);
    if (same) {
      throw new NetworkError(
        409,
        'SecurityGroupRuleExists',
        `Security group rule already exists. Rule id is ${same.uuid}.`,
      );
    }
    const { id: _unsaved, ...values } = rule;
    await tx.insert(neutronSecurityGroupRules).values(values);
    await reserveNetworkQuota(tx, group.project_id, 'security_group_rule', limit);
  });
  return securityGroupRuleView(rule);
}

export async function deleteSecurityGroupRule(
  db: PrimaryDb,
  uuid: string,
  caller: NetworkCaller,
): Promise<void> {
  const rule = await findSecurityGroupRule(db, uuid, caller);
  await db.transaction(async (tx) => {
    const removed = (await lockGroupsForRuleChange(tx, [rule.security_group_uuid]))
      ? await tx.delete(neutronSecurityGroupRules).where(eq(neutronSecurityGroupRules.uuid, uuid))
      : undefined;
    if (removed?.rowsAffected !== 1) throw securityGroupRuleNotFound(uuid);
    await releaseNetworkQuota(tx, rule.project_id, 'security_group_rule');
  });
}

/** A rule's description is all of it that changes; what it matches is fixed once made. */
export async function updateSecurityGroupRule(
  db: PrimaryDb,
  uuid: string,
  caller: NetworkCaller,
  change: { description: string },
): Promise<SecurityGroupRuleView> {
  await findSecurityGroupRule(db, uuid, caller);
  const result = await db
    .update(neutronSecurityGroupRules)
    .set({
      description: change.description,
      revision_number: sql`${neutronSecurityGroupRules.revision_number} + 1`,
      updated_at: new Date(),
    })
    .where(eq(neutronSecurityGroupRules.uuid, uuid));
  if (result.rowsAffected !== 1) throw securityGroupRuleNotFound(uuid);
  return securityGroupRuleView(await findSecurityGroupRule(db, uuid, caller));
}
