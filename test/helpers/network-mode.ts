import type { NetworkApiMode } from '../../functions/network/mode.ts';
import { recordNetworkApiMode } from '../../functions/network/mode.ts';
import { primaryDb } from './api.ts';

/**
 * Switches the test cloud's network API, as the operator tool does on a deployment. The stack's files
 * run one at a time (vitest.config.ts), so a file that runs the legacy API switches to it before its
 * tests and back after them, and no other file boots in between.
 */
export async function useNetworkApi(mode: NetworkApiMode): Promise<void> {
  await recordNetworkApiMode(primaryDb(), mode, 'test');
}
