import type { PrimaryDb } from '../../schema/db.ts';
import { instanceFaults } from '../../schema/tables/index.ts';

export async function recordFault(
  db: PrimaryDb,
  fault: { instance_uuid: string; code: number; message: string; details?: string; host?: string | null },
): Promise<void> {
  await db.insert(instanceFaults).values({
    instance_uuid: fault.instance_uuid,
    code: fault.code,
    // The column is the API's one-line message; the full story goes to details.
    message: fault.message.slice(0, 255),
    details: fault.details ?? null,
    host: fault.host ?? null,
    created_at: new Date(),
  });
}
