import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { images } from '../../schema/tables/index.ts';
import { primaryDb, replicaCaughtUp, stackInfo } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import {
  adminCloud,
  type OpenstackCloud,
  openstack,
  openstackJson,
  writeCloudsYaml,
} from '../helpers/openstack-cli.ts';

// Debian 12's unmodified `openstack image list/show` (openstacksdk 0.101 over keystoneauth 5.0): it
// finds the image endpoint in the catalog, discovers its version at /image, then pages through
// GET /image/v2/images by following `next`.
const suffix = randomUUID().slice(0, 8);
const name = (label: string) => `glance-cli-${suffix}-${label}`;
// More than one default page (25) of images of our own, dated long ago so that they sort after every
// fresh image and stay off other files' first pages.
const BULK = Array.from({ length: 30 }, (_, index) => ({
  uuid: randomUUID(),
  name: name(`bulk-${String(index).padStart(2, '0')}`),
  created_at: new Date(Date.UTC(2019, 0, 1, 0, index)),
}));
const MINE = randomUUID();
const THEIRS = randomUUID();

interface ListedImage {
  ID: string;
  Name: string;
  Status: string;
}

describe('the openstack CLI against /image', () => {
  let dir: string;
  let admin: OpenstackCloud;
  let member: OpenstackCloud;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'glance-cli-'));
    const { apiUrl } = stackInfo();
    const memberName = `glance-cli-member-${suffix}`;
    const { projectId } = await createMember(memberName, 'cli-password');
    const base = { status: 'active', disk_format: 'qcow2', container_format: 'bare', properties: {} };
    await primaryDb()
      .insert(images)
      .values([
        ...BULK.map((image) => ({ ...base, ...image, visibility: 'public' })),
        {
          ...base,
          uuid: MINE,
          name: name('mine'),
          visibility: 'private',
          owner: projectId,
          properties: { os_distro: 'debian' },
          created_at: new Date(Date.UTC(2019, 1, 1)),
        },
        {
          ...base,
          uuid: THEIRS,
          name: name('theirs'),
          visibility: 'private',
          owner: `other-${suffix}`,
          created_at: new Date(Date.UTC(2019, 1, 2)),
        },
      ]);
    await replicaCaughtUp();
    admin = await adminCloud(await mkdtemp(join(dir, 'admin-')));
    member = await writeCloudsYaml(await mkdtemp(join(dir, 'member-')), {
      authUrl: `${apiUrl}/identity/v3`,
      username: memberName,
      password: 'cli-password',
      projectName: `${memberName}-project`,
    });
  });

  afterAll(async () => {
    await primaryDb()
      .delete(images)
      .where(inArray(images.uuid, [...BULK.map((image) => image.uuid), MINE, THEIRS]));
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every image across pages, and the private ones of the caller only', {
    timeout: 120_000,
  }, async () => {
    const all = await openstackJson<ListedImage[]>(admin, ['image', 'list']);
    expect(all.map((image) => image.Name)).toEqual(
      expect.arrayContaining([...BULK.map((image) => image.name), name('mine'), name('theirs')]),
    );
    expect(all.find((image) => image.ID === BULK[0]?.uuid)?.Status).toBe('active');

    const memberPrivate = await openstackJson<ListedImage[]>(member, ['image', 'list', '--private']);
    expect(memberPrivate.map((image) => image.Name)).toEqual([name('mine')]);

    // --limit turns the SDK's paging off: one page of the newest-first order, starting after the marker
    // (given by name); the CLI then sorts what it got by name.
    const page = await openstackJson<ListedImage[]>(admin, [
      'image',
      'list',
      '--limit',
      '2',
      '--marker',
      name('bulk-29'),
    ]);
    expect(page.map((image) => image.Name)).toEqual([name('bulk-27'), name('bulk-28')]);
  });

  it('shows an image by name with its properties, and not another project’s private one', {
    timeout: 120_000,
  }, async () => {
    const shown = await openstackJson<Record<string, unknown>>(member, ['image', 'show', name('mine')]);
    expect(shown).toMatchObject({
      id: MINE,
      name: name('mine'),
      status: 'active',
      visibility: 'private',
      disk_format: 'qcow2',
      container_format: 'bare',
      created_at: '2019-02-01T00:00:00Z',
      protected: false,
    });
    expect(JSON.stringify(shown.properties)).toContain('debian');
    await expect(openstack(member, ['image', 'show', THEIRS])).rejects.toThrow(
      /No Image found|Could not find/i,
    );
  });
});
