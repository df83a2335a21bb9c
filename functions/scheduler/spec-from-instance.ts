import { and, eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { flavorExtraSpecs, flavors, images, type instances } from '../../schema/tables/index.ts';
import { PLACEMENT_IMAGE_PROPERTIES } from './filters/image-properties.ts';
import type { RequestSpec } from './request-spec.ts';

/**
 * The request spec for placing an existing instance (boot, or any move). Extra specs are read from the
 * flavor as it is now: the instance keeps only its resources. Image properties come from the catalogue
 * row of the instance's image, deleted or not (a server outlives its image, and must still move to a
 * host that runs it); only those that decide placement, so a spec stays small.
 */
export async function requestSpecFor(
  db: PrimaryDb,
  instance: typeof instances.$inferSelect,
  ignoreHosts: string[] = [],
): Promise<RequestSpec> {
  const [specs, [image]] = await Promise.all([
    db
      .select({ key: flavorExtraSpecs.key, value: flavorExtraSpecs.value })
      .from(flavorExtraSpecs)
      .innerJoin(flavors, and(eq(flavors.id, flavorExtraSpecs.flavor_id), eq(flavors.deleted, 0)))
      .where(and(eq(flavors.flavorid, instance.flavor.flavorid), eq(flavorExtraSpecs.deleted, 0))),
    db.select({ properties: images.properties }).from(images).where(eq(images.uuid, instance.image_ref)),
  ]);
  const properties = image?.properties ?? {};
  return {
    instance_uuid: instance.uuid,
    project_id: instance.project_id,
    memory_mb: instance.flavor.memory_mb,
    vcpus: instance.flavor.vcpus,
    disk_gb: instance.flavor.root_gb + instance.flavor.ephemeral_gb,
    flavor_name: instance.flavor.name,
    flavor_extra_specs: Object.fromEntries(specs.map((spec) => [spec.key, spec.value])),
    image_properties: Object.fromEntries(
      PLACEMENT_IMAGE_PROPERTIES.flatMap((name) =>
        typeof properties[name] === 'string' ? [[name, properties[name]]] : [],
      ),
    ),
    // The zone the boot request named, not the one the server happens to be in: a server that named
    // none may move to any zone (Nova). boot.schedule, which records it, passes it in itself.
    availability_zone: instance.requested_availability_zone,
    scheduler_hints: instance.scheduler_hints ?? {},
    ignore_hosts: ignoreHosts,
    num_instances: 1,
  };
}

/**
 * The host and node the create request named (compute 2.74), for the boot's spec alone: Nova keeps
 * them to the boot, and a later move of the server is as free as any other's (requestSpecFor leaves
 * them out).
 */
export function bootDestination(
  instance: Pick<typeof instances.$inferSelect, 'requested_host' | 'requested_node'>,
): RequestSpec['requested_destination'] {
  if (instance.requested_host === null && instance.requested_node === null) return undefined;
  return { host: instance.requested_host ?? undefined, node: instance.requested_node ?? undefined };
}
