import { datetime, json, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import type { NetworkInfo } from '../objects/network-info.ts';
import { id } from './columns.ts';

/**
 * Havana's instance_info_caches: what each server's `addresses` and `/ips` are built from, rewritten
 * whenever its ports, fixed or floating addresses change, so that reading a server never asks the
 * network service. Deleted with the instance's network resources; archived rows are not kept.
 */
export const instanceInfoCaches = mysqlTable(
  'instance_info_caches',
  {
    id: id(),
    instance_uuid: varchar('instance_uuid', { length: 36 }).notNull(),
    network_info: json('network_info').$type<NetworkInfo>().notNull(),
    created_at: datetime('created_at', { mode: 'date', fsp: 3 }).notNull(),
    updated_at: datetime('updated_at', { mode: 'date', fsp: 3 }),
  },
  (t) => [uniqueIndex('uniq_instance_info_caches0instance_uuid').on(t.instance_uuid)],
);

/**
 * Which network API the deployment runs (one row, id 1). Absent until something records a mode: then
 * the deployment runs the NETWORK_API setting. The migration's cut-over writes `neutron` here, and from
 * then on this row, not the setting, decides (functions/network/mode.ts).
 */
export const networkSettings = mysqlTable('network_settings', {
  id: id(),
  network_api: varchar('network_api', { length: 16 }).notNull(),
  /** Who changed it: the migration's uuid at a cut-over, or the operator tool. */
  changed_by: varchar('changed_by', { length: 64 }).notNull(),
  updated_at: datetime('updated_at', { mode: 'date', fsp: 3 }).notNull(),
});

/**
 * The tag a server's boot request or interface attach gave one of its interfaces (compute 2.32/2.42 on
 * create, 2.49 on attach; shown by os-interface from 2.70). Deleted with the interface or the
 * server's network resources.
 */
export const instanceVifTags = mysqlTable(
  'instance_vif_tags',
  {
    id: id(),
    instance_uuid: varchar('instance_uuid', { length: 36 }).notNull(),
    /** The port's uuid (the VIF's id in the network info). */
    vif_id: varchar('vif_id', { length: 36 }).notNull(),
    tag: varchar('tag', { length: 60 }).notNull(),
    created_at: datetime('created_at', { mode: 'date', fsp: 3 }).notNull(),
  },
  (t) => [uniqueIndex('uniq_instance_vif_tags0instance_uuid0vif_id').on(t.instance_uuid, t.vif_id)],
);
