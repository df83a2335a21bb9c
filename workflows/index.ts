import { archiveDeletedRows } from './archive-deleted-rows.ts';
import type { StateMachineDefinition, WorkflowRefs } from './asl.ts';
import { bootServer } from './boot-server.ts';
import { cacheImages } from './cache-images.ts';
import { deleteServer } from './delete-server.ts';
import { migrateServer } from './migrate-server.ts';
import { networkMigration } from './network-migration.ts';
import { serverAction } from './server-action.ts';
import { serverInterface } from './server-interface.ts';

/** Every state machine the control plane deploys, by the name the API and infra/ refer to it with. */
export const WORKFLOWS = {
  'archive-deleted-rows': archiveDeletedRows,
  'boot-server': bootServer,
  'cache-images': cacheImages,
  'delete-server': deleteServer,
  'migrate-server': migrateServer,
  'network-migration': networkMigration,
  'server-action': serverAction,
  'server-interface': serverInterface,
} as const satisfies Record<string, (refs: WorkflowRefs) => StateMachineDefinition>;

export type WorkflowName = keyof typeof WORKFLOWS;
export const WORKFLOW_NAMES = Object.keys(WORKFLOWS) as WorkflowName[];
