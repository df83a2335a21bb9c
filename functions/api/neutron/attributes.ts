import type { Context } from 'hono';
import * as v from 'valibot';
import { NEUTRON_NAME_LENGTH } from '../../../schema/tables/networking.ts';
import { NetworkError } from '../../network/errors.ts';
import type { NetworkCaller } from '../../network/networks.ts';
import type { AppEnv, Caller } from '../context.ts';
import { parseOrBadRequest, readJson } from '../middleware/validate.ts';

// What the networks, subnets and ports routes share: body schemas that refuse an attribute they do
// not know (Neutron's "Unrecognized attribute(s)"), the owner a create is made for, Neutron's policy
// refusal, `fields` on a show, and all-or-nothing bulk creates.

/** A body object whose unknown keys are a 400 naming the key, as Neutron's are. */
export function neutronObject<TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.strictObject(entries, (issue) =>
    issue.expected === 'never' ? `Unrecognized attribute(s) ${issue.received}` : 'must be an object',
  );
}

export const Name = v.pipe(v.string(), v.maxLength(NEUTRON_NAME_LENGTH));
export const Description = v.pipe(v.string(), v.maxLength(NEUTRON_NAME_LENGTH));
export const ProjectId = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
/** A uuid-shaped id (what Neutron's id attributes are); lengths follow the uuid columns. */
export const ResourceId = v.pipe(v.string(), v.minLength(1), v.maxLength(36));

/** An integer, or its decimal text: Neutron converts attributes with convert_to_int, and the CLI sends `"1400"`. */
export const NeutronInteger = v.union(
  [v.pipe(v.number(), v.integer()), v.pipe(v.string(), v.regex(/^-?\d{1,10}$/), v.transform(Number))],
  'must be an integer',
);

const TRUE_TEXT = ['true', 'True', '1'];
/** A boolean, or its text (`"true"`, `"False"`, `"1"`...), as Neutron's convert_to_boolean reads it. */
export const NeutronBoolean = v.union(
  [
    v.boolean(),
    v.pipe(
      v.picklist([...TRUE_TEXT, 'false', 'False', '0']),
      v.transform((text) => TRUE_TEXT.includes(text)),
    ),
  ],
  'must be a boolean',
);

/** The owner attributes every create accepts (`tenant_id` is the older name of `project_id`). */
export const OwnerAttributes = {
  project_id: v.optional(ProjectId),
  tenant_id: v.optional(ProjectId),
};

export function networkCaller(caller: Caller): NetworkCaller {
  return { projectId: caller.projectId, isAdmin: caller.isAdmin };
}

/** Neutron's refusal of an action or attribute its policy keeps from the caller. */
export function policyNotAuthorized(rule: string): NetworkError {
  return new NetworkError(403, 'PolicyNotAuthorized', `(rule:${rule}) is disallowed by policy`);
}

/** Refuses `rule` unless the caller is an admin. */
export function requireAdmin(caller: Caller, rule: string): void {
  if (!caller.isAdmin) throw policyNotAuthorized(rule);
}

/** The project a create is for: the caller's, or the one an admin names. */
export function owningProject(caller: Caller, body: { project_id?: string; tenant_id?: string }): string {
  if (body.project_id !== undefined && body.tenant_id !== undefined && body.project_id !== body.tenant_id) {
    throw new NetworkError(400, 'HTTPBadRequest', 'project_id and tenant_id do not match');
  }
  const named = body.project_id ?? body.tenant_id;
  if (named === undefined || named === caller.projectId) return caller.projectId;
  if (!caller.isAdmin) {
    throw new NetworkError(
      400,
      'HTTPBadRequest',
      "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges",
    );
  }
  return named;
}

/** The `fields` a show asks for (repeated or comma separated); undefined for all of them. */
export function requestedFields(c: Context<AppEnv>): string[] | undefined {
  const fields = c.req.queries('fields');
  return fields?.flatMap((value) => value.split(',')).filter((field) => field.length > 0);
}

/**
 * A bulk create as Neutron does it: all or nothing. Items are made one after the other; when one
 * fails, the ones made are deleted and the failure is the answer.
 */
export async function createAll<TInput, TMade>(
  inputs: readonly TInput[],
  create: (input: TInput) => Promise<TMade>,
  undo: (made: TMade) => Promise<void>,
): Promise<TMade[]> {
  const made: TMade[] = [];
  try {
    for (const input of inputs) made.push(await create(input));
  } catch (error) {
    for (const item of made.reverse()) await undo(item);
    throw error;
  }
  return made;
}

/**
 * A create body: `{"<resource>": {...}}` for one, `{"<collection>": [...]}` for a bulk create. Items
 * are validated one by one, so an error names the item's attribute.
 */
export async function readCreateBody<TItem extends v.GenericSchema>(
  c: Context<AppEnv>,
  resource: string,
  collection: string,
  item: TItem,
): Promise<{ items: Array<v.InferOutput<TItem>>; bulk: boolean }> {
  const body = await readJson(c, v.record(v.string(), v.unknown()));
  const keys = Object.keys(body);
  if (keys.length === 1 && keys[0] === resource) {
    return { items: [parseOrBadRequest(v.strictObject({ [resource]: item }), body)[resource]], bulk: false };
  }
  if (keys.length === 1 && keys[0] === collection) {
    const list = parseOrBadRequest(
      v.strictObject({ [collection]: v.pipe(v.array(item), v.minLength(1, 'must not be empty')) }),
      body,
    )[collection];
    return { items: list as Array<v.InferOutput<TItem>>, bulk: true };
  }
  throw new NetworkError(
    400,
    'HTTPBadRequest',
    `Resource body required: {"${resource}": {...}} or {"${collection}": [...]}`,
  );
}
