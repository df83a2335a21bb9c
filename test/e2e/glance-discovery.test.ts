import { randomUUID } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { images } from '../../schema/tables/index.ts';
import { call, login, primaryDb, replicaCaughtUp, stackInfo } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';

// The image service as openstacksdk (and so `openstack image list/show`) uses it: version discovery
// without a token, then Glance v2 lists and shows. Other files share the cloud and its seed images,
// so every list here is narrowed to this file's own images by name.

interface Image {
  id: string;
  name: string;
  [key: string]: unknown;
}
interface ImagePage {
  images: Image[];
  schema: string;
  first: string;
  next?: string;
}

const suffix = randomUUID().slice(0, 8);
const name = (letter: string) => `glance-${suffix}-${letter}`;
// Five public images created a second apart (a..e), long ago so that they sort after every fresh
// image under the default newest-first order and keep out of other files' first pages.
const PUBLIC = ['a', 'b', 'c', 'd', 'e'].map((letter, index) => ({
  letter,
  uuid: randomUUID(),
  // c's stored time has milliseconds, which Glance's whole-second times never show.
  created_at: new Date(Date.UTC(2020, 0, 1, 0, 0, index, letter === 'c' ? 400 : 0)),
  disk_format: index % 2 === 0 ? 'qcow2' : 'raw',
}));
const MINE = randomUUID();
const THEIRS = randomUUID();
const PUBLIC_NAMES = PUBLIC.map((image) => name(image.letter));
const ALL_NAMES = [...PUBLIC_NAMES, name('mine'), name('theirs')];

function listPath(query: Record<string, string>): string {
  return `/image/v2/images?${new URLSearchParams(query)}`;
}

/** Every page of a list, following `next` the way openstacksdk does. */
async function pages(
  token: string,
  query: Record<string, string>,
): Promise<{ names: string[]; page: ImagePage }[]> {
  const seen: { names: string[]; page: ImagePage }[] = [];
  let path = listPath(query);
  for (let count = 0; count < 10; count += 1) {
    const response = await call<ImagePage>('GET', path, { token });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    seen.push({ names: response.body.images.map((image) => image.name), page: response.body });
    if (!response.body.next) return seen;
    expect(response.body.next).toMatch(/^\/v2\/images\?/);
    path = `/image${response.body.next}`;
  }
  throw new Error('more than 10 pages');
}

async function names(token: string, query: Record<string, string>): Promise<string[]> {
  const response = await call<ImagePage>('GET', listPath(query), { token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.images.map((image) => image.name);
}

const inList = (list: string[]) => `in:${list.join(',')}`;

describe('image service discovery', () => {
  const href = () => `${stackInfo().apiUrl}/image/v2/`;

  it.each(['/image', '/image/'])(
    'answers %s with 300 and the version list, without a token',
    async (path) => {
      const response = await call<{ versions: { id: string; status: string; links: unknown[] }[] }>(
        'GET',
        path,
        {
          token: null,
        },
      );
      expect(response.status).toBe(300);
      const { versions } = response.body;
      expect(versions[0]).toEqual({ id: 'v2.15', status: 'CURRENT', links: [{ rel: 'self', href: href() }] });
      expect(versions.at(-1)).toEqual({
        id: 'v2.0',
        status: 'SUPPORTED',
        links: [{ rel: 'self', href: href() }],
      });
      expect(versions.slice(1).every((version) => version.status === 'SUPPORTED')).toBe(true);
      expect(versions.map((version) => version.id)).toContain('v2.9');
    },
  );

  it('answers /image/versions with 200 and the same body', async () => {
    const root = await call('GET', '/image', { token: null });
    const versions = await call('GET', '/image/versions', { token: null });
    expect(versions.status).toBe(200);
    expect(versions.body).toEqual(root.body);
  });
});

describe('Glance v2 images', () => {
  let admin: string;
  let member: string;
  let memberProject: string;

  beforeAll(async () => {
    admin = await login();
    ({ projectId: memberProject } = await createMember(`glance-member-${suffix}`, 'secret-password'));
    member = await login(`glance-member-${suffix}`, 'secret-password');
    const base = { status: 'active', container_format: 'bare', min_disk: 0, min_ram: 0 };
    await primaryDb()
      .insert(images)
      .values([
        ...PUBLIC.map((image) => ({
          ...base,
          uuid: image.uuid,
          name: name(image.letter),
          disk_format: image.disk_format,
          visibility: 'public',
          properties: { os_distro: 'cirros' },
          created_at: image.created_at,
          // Only e was ever updated.
          updated_at: image.letter === 'e' ? new Date(Date.UTC(2021, 5, 1)) : null,
        })),
        {
          ...base,
          uuid: MINE,
          name: name('mine'),
          disk_format: 'raw',
          visibility: 'private',
          owner: memberProject,
          properties: {},
          created_at: new Date(Date.UTC(2020, 0, 2)),
        },
        {
          ...base,
          uuid: THEIRS,
          name: name('theirs'),
          disk_format: 'raw',
          visibility: 'private',
          owner: `other-${suffix}`,
          properties: {},
          created_at: new Date(Date.UTC(2020, 0, 3)),
        },
      ]);
    await replicaCaughtUp();
  });

  afterAll(async () => {
    await primaryDb()
      .delete(images)
      .where(inArray(images.uuid, [...PUBLIC.map((image) => image.uuid), MINE, THEIRS]));
  });

  it('shows an image as the bare Glance object, whole-second times and properties at the top level', async () => {
    const c = PUBLIC[2];
    const response = await call<Record<string, unknown>>('GET', `/image/v2/images/${c?.uuid}`, {
      token: member,
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: c?.uuid,
      name: name('c'),
      status: 'active',
      visibility: 'public',
      protected: false,
      os_hidden: false,
      disk_format: 'qcow2',
      container_format: 'bare',
      min_disk: 0,
      min_ram: 0,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      owner: null,
      created_at: '2020-01-01T00:00:02Z',
      updated_at: '2020-01-01T00:00:02Z',
      tags: [],
      self: `/v2/images/${c?.uuid}`,
      file: `/v2/images/${c?.uuid}/file`,
      schema: '/v2/schemas/image',
      os_distro: 'cirros',
    });
  });

  it('lists the same objects, with the schema and first links and no next on a short page', async () => {
    const query = { name: name('c') };
    const list = await call<ImagePage>('GET', listPath(query), { token: member });
    expect(list.status).toBe(200);
    const show = await call('GET', `/image/v2/images/${PUBLIC[2]?.uuid}`, { token: member });
    expect(list.body).toEqual({
      images: [show.body],
      schema: '/v2/schemas/images',
      first: `/v2/images?${new URLSearchParams(query)}`,
    });
  });

  it('lists newest first by default', async () => {
    expect(await names(admin, { name: inList(PUBLIC_NAMES) })).toEqual([...PUBLIC_NAMES].reverse());
  });

  it('pages with limit and marker, and says next only while pages are full', async () => {
    const query = { name: inList(PUBLIC_NAMES), sort_key: 'name', sort_dir: 'asc', limit: '2' };
    const seen = await pages(member, query);
    expect(seen.map((page) => page.names)).toEqual([
      [name('a'), name('b')],
      [name('c'), name('d')],
      [name('e')],
    ]);
    // `first` is the request without its marker; `next` adds the page's last id.
    for (const { page } of seen) expect(page.first).toBe(`/v2/images?${new URLSearchParams(query)}`);
    expect(seen[0]?.page.next).toBe(
      `/v2/images?${new URLSearchParams({ ...query, marker: PUBLIC[1]?.uuid ?? '' })}`,
    );

    // A last page that is exactly full still offers a next, which then comes back empty.
    const full = await pages(member, { ...query, limit: '5' });
    expect(full.map((page) => page.names)).toEqual([PUBLIC_NAMES, []]);
  });

  it('sorts by several keys with sort=key:dir, and by the old sort_key/sort_dir pair', async () => {
    // qcow2: a, c, e; raw: b, d.
    expect(await names(member, { name: inList(PUBLIC_NAMES), sort: 'disk_format:asc,name:desc' })).toEqual(
      ['e', 'c', 'a', 'd', 'b'].map(name),
    );
    expect(
      await names(member, { name: inList(PUBLIC_NAMES), sort_key: 'updated_at', sort_dir: 'desc' }),
    ).toEqual(['e', 'd', 'c', 'b', 'a'].map(name));
    const second = await pages(member, {
      name: inList(PUBLIC_NAMES),
      sort: 'disk_format:asc,name:desc',
      limit: '3',
    });
    expect(second.map((page) => page.names)).toEqual([['e', 'c', 'a'].map(name), ['d', 'b'].map(name)]);
  });

  it('filters by the fields the catalogue holds', async () => {
    const mine = { name: inList(ALL_NAMES) };
    expect(await names(member, { ...mine, disk_format: 'raw', sort_key: 'name', sort_dir: 'asc' })).toEqual(
      ['b', 'd', 'mine'].map(name),
    );
    expect(await names(member, { ...mine, visibility: 'private' })).toEqual([name('mine')]);
    expect(await names(admin, { ...mine, visibility: 'private', sort: 'name:asc' })).toEqual(
      ['mine', 'theirs'].map(name),
    );
    expect(await names(admin, { ...mine, owner: `other-${suffix}` })).toEqual([name('theirs')]);
    expect(
      await names(member, { ...mine, status: 'in:active,queued', container_format: 'bare' }),
    ).toHaveLength(6);
    expect(await names(member, { ...mine, status: 'queued' })).toEqual([]);
    expect(await names(member, { ...mine, id: `in:${PUBLIC[0]?.uuid},${THEIRS}` })).toEqual([name('a')]);
    // Whole-second times: c is stored at :02.400 and shown, and so compared, as :02.
    expect(await names(member, { ...mine, created_at: 'eq:2020-01-01T00:00:02Z' })).toEqual([name('c')]);
    expect(
      await names(member, {
        name: inList(PUBLIC_NAMES),
        created_at: 'gte:2020-01-01T00:00:02Z',
        sort: 'name:asc',
      }),
    ).toEqual(['c', 'd', 'e'].map(name));
    expect(await names(member, { ...mine, updated_at: 'gt:2021-01-01T00:00:00Z' })).toEqual([name('e')]);
  });

  it('answers the filters on what it does not store: no tags, sizes, protection or hiding', async () => {
    const mine = { name: inList(PUBLIC_NAMES) };
    expect(await names(member, { ...mine, tag: 'gold' })).toEqual([]);
    expect(await names(member, { ...mine, size_min: '1' })).toEqual([]);
    expect(await names(member, { ...mine, protected: 'true' })).toEqual([]);
    expect(await names(member, { ...mine, os_hidden: 'true' })).toEqual([]);
    expect(await names(member, { ...mine, protected: 'false', os_hidden: 'false' })).toHaveLength(5);
    expect(await names(member, { ...mine, member_status: 'accepted' })).toHaveLength(5);
  });

  it.each([
    ['an unknown marker', { marker: randomUUID() }, 'marker'],
    ['an unknown query key', { colour: 'blue' }, 'colour'],
    ['a negative limit', { limit: '-1' }, 'limit'],
    ['an unknown sort key', { sort_key: 'owner' }, 'sort_key'],
    ['sort with sort_key', { sort: 'name:asc', sort_key: 'name' }, 'sort'],
    ['a bad visibility', { visibility: 'everyone' }, 'visibility'],
    ['a bad time filter', { created_at: 'after:yesterday' }, 'created_at'],
  ])('refuses %s with a 400 naming it', async (_case, query, field) => {
    const response = await call<{ badRequest?: { message: string } }>('GET', listPath(query), {
      token: member,
    });
    expect(response.status).toBe(400);
    expect(response.body.badRequest?.message).toContain(field);
  });

  it("refuses another project's private image as a marker and hides it from show", async () => {
    expect((await call('GET', listPath({ marker: THEIRS }), { token: member })).status).toBe(400);
    expect((await call('GET', `/image/v2/images/${THEIRS}`, { token: member })).status).toBe(404);
    expect((await call('GET', `/image/v2/images/${THEIRS}`, { token: admin })).status).toBe(200);
    expect((await call('GET', `/image/v2/images/${MINE}`, { token: member })).status).toBe(200);
  });

  it('publishes the schemas the objects point at', async () => {
    const image = await call<{ name: string; properties: Record<string, unknown> }>(
      'GET',
      '/image/v2/schemas/image',
      {
        token: member,
      },
    );
    expect(image.status).toBe(200);
    expect(image.body.name).toBe('image');
    expect(Object.keys(image.body.properties)).toEqual(expect.arrayContaining(['id', 'os_hidden', 'file']));
    const list = await call<{ name: string }>('GET', '/image/v2/schemas/images', { token: member });
    expect(list.body.name).toBe('images');
  });
});
