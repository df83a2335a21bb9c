// What a network write (a port's claims, a nova-network allocation) does when it loses to a concurrent one: InnoDB picks a deadlock victim (or
// a lock wait times out) and rolls its transaction back, or a claim under a unique key was taken
// between the read and the write. Either way the whole transaction is run again from a fresh read.

/** A claim lost to a concurrent writer (an address or a random MAC drawn twice, a VIF another retry inserted). */
export class ClaimLost extends Error {
  override readonly name = 'ClaimLost';
}

/** MySQL 1213 (deadlock victim) and 1205 (lock wait timeout): the transaction was rolled back. */
export function isDeadlockOrLockTimeout(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (/Deadlock found|errno 1213|Lock wait timeout|errno 1205/.test(current.message)) return true;
  }
  return false;
}

/** Havana's create_unique_mac_address_attempts, and enough for a burst of concurrent boots. */
export const TRANSIENT_ATTEMPTS = 10;

/**
 * Runs `work` (one transaction) again while it loses to concurrent writers, with a short random pause
 * so that the losers do not collide again in lock step. The last loss is rethrown.
 */
export async function retryTransient<T>(work: () => Promise<T>, attempts = TRANSIENT_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const transient = error instanceof ClaimLost || isDeadlockOrLockTimeout(error);
      if (!transient || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}
