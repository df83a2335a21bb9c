import { asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { projects } from '../../../schema/tables/index.ts';
import { DEFAULT_DOMAIN } from '../../identity/domains.ts';
import { newIdentityId } from '../../identity/ids.ts';
import { recordRevocations } from '../../identity/revocations.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authenticate } from '../middleware/auth.ts';
import { readJson, readQuery } from '../middleware/validate.ts';
import { authorize } from '../policy.ts';
import { authorizeOwnProject } from './access.ts';
import { deleteRoleHolder, storeNamed } from './entities.ts';
import {
  DefaultDomainId,
  Description,
  entityName,
  ListFilters,
  listFilterCondition,
  NoOptions,
  someAttribute,
} from './input.ts';
import { collectionLinks, projectView } from './views.ts';

// Keystone's /v3/projects as `openstack project ...` uses it. Projects are flat (no hierarchy, no
// tags): the body keys that express those are accepted only with their empty values, which is what
// the clients send when nothing was asked for.
const ProjectName = entityName(64);

const NoTags = v.pipe(v.array(v.string()), v.length(0, 'project tags are not supported'));

// What a project is created with and changed by, beside its name.
const ATTRIBUTES = {
  domain_id: v.optional(DefaultDomainId),
  description: v.optional(Description),
  enabled: v.optional(v.boolean()),
  options: v.optional(NoOptions),
  tags: v.optional(NoTags),
};

const CreateProject = v.strictObject({
  project: v.strictObject({
    name: ProjectName,
    ...ATTRIBUTES,
    // The domain is a top-level project's parent; project hierarchies are not supported.
    parent_id: v.nullish(v.literal(DEFAULT_DOMAIN.id, 'project hierarchies are not supported')),
    is_domain: v.optional(v.literal(false, 'projects acting as domains are not supported')),
  }),
});

const UpdateProject = v.strictObject({
  project: v.pipe(v.strictObject({ name: v.optional(ProjectName), ...ATTRIBUTES }), someAttribute()),
});

export async function findProject(db: PrimaryDb, id: string) {
  const [project] = await db.select().from(projects).where(eq(projects.id, id));
  if (!project) throw new NotFound(`Could not find project: ${id}.`);
  return project;
}

export const projectRoutes = new Hono<AppEnv>()
  .post('/projects', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:create_project');
    const { project } = await readJson(c, CreateProject);
    const row = {
      id: newIdentityId(),
      name: project.name,
      description: project.description ?? '',
      enabled: project.enabled ?? true,
      created_at: new Date(),
    };
    await storeNamed('project', project.name, () => c.var.db.$primary.insert(projects).values(row));
    return c.json({ project: projectView(c, { ...row, updated_at: null }) }, 201);
  })
  .get('/projects', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:list_projects');
    const filters = readQuery(c, ListFilters);
    const rows = await c.var.db.$primary
      .select()
      .from(projects)
      .where(listFilterCondition(filters, projects))
      .orderBy(asc(projects.name));
    return c.json({ projects: rows.map((project) => projectView(c, project)), links: collectionLinks(c) });
  })
  .get('/projects/:project_id', authenticate, async (c) => {
    const id = c.req.param('project_id');
    authorizeOwnProject(c.var.caller, 'identity:get_project', id);
    return c.json({ project: projectView(c, await findProject(c.var.db.$primary, id)) });
  })
  .patch('/projects/:project_id', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:update_project');
    const { project: change } = await readJson(c, UpdateProject);
    const db = c.var.db.$primary;
    const id = c.req.param('project_id');
    const project = await findProject(db, id);
    // Only what the request names is written, so concurrent changes to other attributes survive.
    const set = {
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.description !== undefined ? { description: change.description ?? '' } : {}),
      ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
      updated_at: new Date(),
    };
    await storeNamed('project', change.name ?? project.name, () =>
      db.transaction(async (tx) => {
        await tx.update(projects).set(set).where(eq(projects.id, id));
        // A disabled project's tokens stop at once, as a deleted one's.
        if (change.enabled === false)
          await recordRevocations(tx, [{ projectId: id }], c.var.config.TOKEN_TTL_SECONDS);
      }),
    );
    const updated = { ...project, ...set };
    return c.json({ project: projectView(c, updated) });
  })
  .delete('/projects/:project_id', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:delete_project');
    await deleteRoleHolder(c, 'project', c.req.param('project_id'));
    return c.body(null, 204);
  });
