import { and, desc, eq, isNull } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { instanceActionEvents, instanceActions } from '../../schema/tables/index.ts';

// Instance actions are the user-visible log of what was asked of a server (create, delete, ...) and
// the events are the steps the workflow took for it, each with its result.
export async function startAction(
  db: PrimaryDb,
  action: { action: string; instance_uuid: string; request_id: string; project_id: string; user_id: string },
): Promise<void> {
  const now = new Date();
  await db.insert(instanceActions).values({ ...action, start_time: now, created_at: now });
}

async function currentActionId(db: PrimaryDb, instanceUuid: string): Promise<number | undefined> {
  const [action] = await db
    .select({ id: instanceActions.id })
    .from(instanceActions)
    .where(
      and(
        eq(instanceActions.instance_uuid, instanceUuid),
        isNull(instanceActions.finish_time),
        eq(instanceActions.deleted, 0),
      ),
    )
    .orderBy(desc(instanceActions.id))
    .limit(1);
  return action?.id;
}

/** The fault message a failed event shows (compute 2.84), cut as Nova cuts an instance fault's message. */
const DETAILS_LENGTH = 255;

/** Records one step of the instance's current action; a failed one keeps its message as its details. */
export async function recordEvent(
  db: PrimaryDb,
  instanceUuid: string,
  event: { event: string; result: 'Success' | 'Error'; host?: string | null; traceback?: string },
): Promise<void> {
  const actionId = await currentActionId(db, instanceUuid);
  if (actionId === undefined) return;
  const now = new Date();
  await db.insert(instanceActionEvents).values({
    action_id: actionId,
    event: event.event,
    start_time: now,
    finish_time: now,
    result: event.result,
    host: event.host ?? null,
    traceback: event.traceback ?? null,
    details: event.result === 'Error' ? (event.traceback?.slice(0, DETAILS_LENGTH) ?? null) : null,
    created_at: now,
  });
}

export async function finishAction(
  db: PrimaryDb,
  instanceUuid: string,
  message: string | null = null,
): Promise<void> {
  const actionId = await currentActionId(db, instanceUuid);
  if (actionId === undefined) return;
  await db
    .update(instanceActions)
    .set({ finish_time: new Date(), message, updated_at: new Date() })
    .where(eq(instanceActions.id, actionId));
}
