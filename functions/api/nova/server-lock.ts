import { Conflict } from '../../shared/errors.ts';
import type { Caller } from '../context.ts';

/**
 * Havana's check_instance_lock: a locked server refuses every change its owner asks for (actions,
 * metadata writes, delete) with 409 until it is unlocked; admins are not held by locks.
 */
export function requireUnlocked(caller: Caller, instance: { uuid: string; locked_by: string | null }): void {
  if (instance.locked_by && !caller.isAdmin) throw new Conflict(`Instance ${instance.uuid} is locked`);
}
