import * as v from 'valibot';
import { neutronSecurityGroups } from '../../../schema/tables/index.ts';
import { ensureDefaultSecurityGroup } from '../../network/default-security-group.ts';
import {
  createSecurityGroup,
  deleteSecurityGroup,
  findSecurityGroup,
  securityGroupViews,
  updateSecurityGroup,
} from '../../network/security-groups.ts';
import { type Route, route } from '../route.ts';
import { Description, Name, OwnerAttributes, owningProject } from './attributes.ts';
import { ownedBy, readListPage } from './list-page.ts';
import { type CollectionSpec, filterValues, listResponse, parseListQuery } from './list-query.ts';
import { resourceBody, showBody } from './resource-input.ts';

// /network/v2.0/security-groups (functions/network/security-groups.ts). Listing makes the project's
// default group first, as Neutron does, so a project's first `openstack security group list` shows it.

const SECURITY_GROUPS: CollectionSpec = {
  collection: 'security_groups',
  idColumn: neutronSecurityGroups.uuid,
  attributes: {
    id: { type: 'string', column: neutronSecurityGroups.uuid, sortable: true },
    name: { type: 'string', column: neutronSecurityGroups.name, sortable: true },
    description: { type: 'string', column: neutronSecurityGroups.description, sortable: true },
    stateful: { type: 'boolean', column: neutronSecurityGroups.stateful, sortable: true },
    project_id: { type: 'string', column: neutronSecurityGroups.project_id, sortable: true },
    tenant_id: { type: 'string', column: neutronSecurityGroups.project_id, sortable: true },
    revision_number: { type: 'integer', column: neutronSecurityGroups.revision_number, sortable: true },
  },
};

const CreateSecurityGroup = resourceBody('security_group', {
  name: v.optional(Name),
  description: v.optional(Description),
  stateful: v.optional(v.boolean()),
  ...OwnerAttributes,
});

const UpdateSecurityGroup = resourceBody('security_group', {
  name: v.optional(Name),
  description: v.optional(Description),
  stateful: v.optional(v.boolean()),
});

const SECURITY_GROUP_PATH = '/network/v2.0/security-groups/:security_group_id';

export const securityGroupsRoutes: Route[] = [
  route({
    method: 'get',
    path: '/network/v2.0/security-groups',
    summary: "List security groups (the project's default group is made on the first list)",
    responses: { 200: 'security_groups (filters, fields, sorting, paging)' },
    handler: async (c) => {
      const request = parseListQuery(c, SECURITY_GROUPS);
      const named = [
        ...(filterValues(request, 'project_id') ?? []),
        ...(filterValues(request, 'tenant_id') ?? []),
      ];
      // An admin listing one project's groups sees that project's default group made too.
      const project =
        c.var.caller.isAdmin && named.length === 1 ? (named[0] as string) : c.var.caller.projectId;
      // Read from the primary: the default group may have been made by this very request.
      const db = c.var.db.$primary;
      await ensureDefaultSecurityGroup(db, project);
      const rows = await readListPage(
        db,
        neutronSecurityGroups,
        SECURITY_GROUPS,
        request,
        ownedBy(c.var.caller, neutronSecurityGroups.project_id),
      );
      return listResponse(c, SECURITY_GROUPS, request, await securityGroupViews(db, rows));
    },
  }),
  route({
    method: 'post',
    path: '/network/v2.0/security-groups',
    summary: 'Create a security group (with egress rules for every address)',
    body: CreateSecurityGroup,
    responses: { 201: 'security_group' },
    handler: async (c, { body }) => {
      const input = body.security_group;
      const group = await createSecurityGroup(c.var.db.$primary, {
        project_id: owningProject(c.var.caller, input),
        name: input.name ?? '',
        description: input.description,
        stateful: input.stateful,
      });
      return c.json({ security_group: group }, 201);
    },
  }),
  route({
    method: 'get',
    path: SECURITY_GROUP_PATH,
    summary: 'Show a security group with its rules',
    responses: { 200: 'security_group' },
    handler: async (c) => {
      const group = await findSecurityGroup(c.var.db, c.req.param('security_group_id') ?? '', c.var.caller);
      const [view] = await securityGroupViews(c.var.db, [group]);
      return c.json(showBody(c, 'security_group', view ?? {}));
    },
  }),
  route({
    method: 'put',
    path: SECURITY_GROUP_PATH,
    summary: "Update a security group's name, description or statefulness (a default group keeps its name)",
    body: UpdateSecurityGroup,
    responses: { 200: 'security_group' },
    handler: async (c, { body }) => {
      const group = await updateSecurityGroup(
        c.var.db.$primary,
        c.req.param('security_group_id') ?? '',
        c.var.caller,
        body.security_group,
      );
      return c.json({ security_group: group });
    },
  }),
  route({
    method: 'delete',
    path: SECURITY_GROUP_PATH,
    summary: 'Delete a security group no port uses (not a default group, unless admin)',
    responses: { 204: 'nothing' },
    handler: async (c) => {
      await deleteSecurityGroup(c.var.db.$primary, c.req.param('security_group_id') ?? '', c.var.caller);
      return c.body(null, 204);
    },
  }),
];
