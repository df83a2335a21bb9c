import * as v from 'valibot';
import { neutronSecurityGroupRules } from '../../../schema/tables/index.ts';
import { ensureDefaultSecurityGroup } from '../../network/default-security-group.ts';
import {
  createSecurityGroupRule,
  deleteSecurityGroupRule,
  findSecurityGroupRule,
  securityGroupRuleView,
  updateSecurityGroupRule,
} from '../../network/security-groups.ts';
import { type Route, route } from '../route.ts';
import { Description, OwnerAttributes, owningProject, ResourceId } from './attributes.ts';
import { ownedBy, readListPage } from './list-page.ts';
import { type CollectionSpec, listResponse, parseListQuery } from './list-query.ts';
import { IpText, resourceBody, showBody } from './resource-input.ts';

// /network/v2.0/security-group-rules (functions/network/security-groups.ts; the checks of a rule's
// fields are in functions/network/security-group-rule-fields.ts). Address groups are not served.

const RULES: CollectionSpec = {
  collection: 'security_group_rules',
  idColumn: neutronSecurityGroupRules.uuid,
  attributes: {
    id: { type: 'string', column: neutronSecurityGroupRules.uuid, sortable: true },
    security_group_id: {
      type: 'string',
      column: neutronSecurityGroupRules.security_group_uuid,
      sortable: true,
    },
    direction: { type: 'string', column: neutronSecurityGroupRules.direction, sortable: true },
    ethertype: { type: 'string', column: neutronSecurityGroupRules.ethertype, sortable: true },
    protocol: { type: 'string', column: neutronSecurityGroupRules.protocol },
    port_range_min: { type: 'integer', column: neutronSecurityGroupRules.port_range_min },
    port_range_max: { type: 'integer', column: neutronSecurityGroupRules.port_range_max },
    remote_ip_prefix: { type: 'string', column: neutronSecurityGroupRules.remote_ip_prefix },
    remote_group_id: { type: 'string', column: neutronSecurityGroupRules.remote_group_uuid },
    description: { type: 'string', column: neutronSecurityGroupRules.description, sortable: true },
    project_id: { type: 'string', column: neutronSecurityGroupRules.project_id, sortable: true },
    tenant_id: { type: 'string', column: neutronSecurityGroupRules.project_id, sortable: true },
    revision_number: { type: 'integer', column: neutronSecurityGroupRules.revision_number, sortable: true },
  },
};

/** Neutron converts numeric strings; a port or an ICMP type/code is 0-65535 before the per-protocol checks. */
const PortValue = v.nullable(
  v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.regex(/^\d{1,5}$/, 'must be an integer'))]),
    v.transform(Number),
    v.integer('must be an integer'),
    v.minValue(0, 'must be 0 to 65535'),
    v.maxValue(65_535, 'must be 0 to 65535'),
  ),
);

const Ethertype = v.pipe(
  v.string(),
  v.transform((text) => text.toLowerCase()),
  v.picklist(['ipv4', 'ipv6'], "must be 'IPv4' or 'IPv6'"),
  v.transform((text) => (text === 'ipv4' ? 'IPv4' : 'IPv6') as 'IPv4' | 'IPv6'),
);

const CreateRule = resourceBody('security_group_rule', {
  security_group_id: ResourceId,
  direction: v.picklist(['ingress', 'egress'], "must be 'ingress' or 'egress'"),
  ethertype: v.optional(Ethertype),
  protocol: v.optional(
    v.nullable(v.union([v.pipe(v.string(), v.maxLength(40)), v.pipe(v.number(), v.integer())])),
  ),
  port_range_min: v.optional(PortValue),
  port_range_max: v.optional(PortValue),
  remote_ip_prefix: v.optional(v.nullable(IpText)),
  remote_group_id: v.optional(v.nullable(ResourceId)),
  remote_address_group_id: v.optional(v.null('address groups are not supported')),
  description: v.optional(Description),
  ...OwnerAttributes,
});

const UpdateRule = resourceBody('security_group_rule', { description: Description });

const RULE_PATH = '/network/v2.0/security-group-rules/:security_group_rule_id';

export const securityGroupRulesRoutes: Route[] = [
  route({
    method: 'get',
    path: '/network/v2.0/security-group-rules',
    summary: 'List security group rules',
    responses: { 200: 'security_group_rules (filters, fields, sorting, paging)' },
    handler: async (c) => {
      const request = parseListQuery(c, RULES);
      const db = c.var.db.$primary;
      await ensureDefaultSecurityGroup(db, c.var.caller.projectId);
      const rows = await readListPage(
        db,
        neutronSecurityGroupRules,
        RULES,
        request,
        ownedBy(c.var.caller, neutronSecurityGroupRules.project_id),
      );
      return listResponse(c, RULES, request, rows.map(securityGroupRuleView));
    },
  }),
  route({
    method: 'post',
    path: '/network/v2.0/security-group-rules',
    summary: "Add a rule to one of the project's security groups",
    body: CreateRule,
    responses: { 201: 'security_group_rule' },
    handler: async (c, { body }) => {
      const input = body.security_group_rule;
      // The rule belongs to its group's project; naming another project is checked as for any create.
      owningProject(c.var.caller, input);
      const rule = await createSecurityGroupRule(
        c.var.db.$primary,
        {
          security_group_id: input.security_group_id,
          direction: input.direction,
          ethertype: input.ethertype ?? 'IPv4',
          protocol: input.protocol ?? null,
          port_range_min: input.port_range_min ?? null,
          port_range_max: input.port_range_max ?? null,
          remote_ip_prefix: input.remote_ip_prefix ?? null,
          remote_group_id: input.remote_group_id ?? null,
          description: input.description,
        },
        c.var.caller,
      );
      return c.json({ security_group_rule: rule }, 201);
    },
  }),
  route({
    method: 'get',
    path: RULE_PATH,
    summary: 'Show a security group rule',
    responses: { 200: 'security_group_rule' },
    handler: async (c) => {
      const rule = await findSecurityGroupRule(
        c.var.db,
        c.req.param('security_group_rule_id') ?? '',
        c.var.caller,
      );
      return c.json(showBody(c, 'security_group_rule', securityGroupRuleView(rule)));
    },
  }),
  route({
    method: 'put',
    path: RULE_PATH,
    summary: "Update a security group rule's description",
    body: UpdateRule,
    responses: { 200: 'security_group_rule' },
    handler: async (c, { body }) => {
      const rule = await updateSecurityGroupRule(
        c.var.db.$primary,
        c.req.param('security_group_rule_id') ?? '',
        c.var.caller,
        body.security_group_rule,
      );
      return c.json({ security_group_rule: rule });
    },
  }),
  route({
    method: 'delete',
    path: RULE_PATH,
    summary: 'Delete a security group rule',
    responses: { 204: 'nothing' },
    handler: async (c) => {
      await deleteSecurityGroupRule(
        c.var.db.$primary,
        c.req.param('security_group_rule_id') ?? '',
        c.var.caller,
      );
      return c.body(null, 204);
    },
  }),
];
