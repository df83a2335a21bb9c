import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { failInstance } from '../../functions/compute/instance-faults.ts';
import { StateConflict } from '../../functions/shared/errors.ts';
import { instanceFaults, instances } from '../../schema/tables/index.ts';
import { primaryDb } from '../helpers/api.ts';
import { newInstanceRow } from '../helpers/instance-rows.ts';

async function insertInstance(vm_state: string, task_state: string | null): Promise<string> {
  const row = newInstanceRow({ vm_state, task_state });
  await primaryDb().insert(instances).values(row);
  return row.uuid;
}

async function stateAndFaults(uuid: string) {
  const [row] = await primaryDb()
    .select({ vm_state: instances.vm_state, task_state: instances.task_state })
    .from(instances)
    .where(eq(instances.uuid, uuid));
  const faults = await primaryDb()
    .select()
    .from(instanceFaults)
    .where(eq(instanceFaults.instance_uuid, uuid));
  return { ...row, faults };
}

// A reader of GET /v3/servers/{id} once saw ERROR before the fault was written: the state and its
// fault must land together, and a transition that loses must leave no fault behind.
describe('failInstance', () => {
  it('writes the ERROR state and its fault together', async () => {
    const uuid = await insertInstance('building', 'spawning');
    await failInstance(primaryDb(), uuid, 'build_failed', { code: 500, message: 'spawn failed' });
    const seen = await stateAndFaults(uuid);
    expect(seen).toMatchObject({ vm_state: 'error', task_state: null });
    expect(seen.faults).toHaveLength(1);
    expect(seen.faults[0]).toMatchObject({ code: 500, message: 'spawn failed' });
  });

  it('writes no fault when the instance is no longer in a state the failure applies to', async () => {
    const uuid = await insertInstance('active', 'deleting');
    await expect(
      failInstance(primaryDb(), uuid, 'build_failed', { code: 500, message: 'too late' }),
    ).rejects.toBeInstanceOf(StateConflict);
    const seen = await stateAndFaults(uuid);
    expect(seen).toMatchObject({ vm_state: 'active', task_state: 'deleting', faults: [] });
  });

  it('keeps the column to one line of 255 characters and the rest in details', async () => {
    const uuid = await insertInstance('building', 'scheduling');
    const long = 'x'.repeat(300);
    await failInstance(primaryDb(), uuid, 'build_failed', { code: 500, message: long, details: long });
    const { faults } = await stateAndFaults(uuid);
    expect(faults[0]?.message).toHaveLength(255);
    expect(faults[0]?.details).toBe(long);
  });
});
