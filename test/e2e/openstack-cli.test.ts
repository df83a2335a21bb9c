import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE } from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';
import { adminCloud, type OpenstackCloud, openstack, openstackJson } from '../helpers/openstack-cli.ts';

// Debian 12's unmodified `openstack` CLI (python3-openstackclient 6.0: novaclient 18.1 at 2.1 for
// servers, hypervisors, quotas and usage; openstacksdk 0.101 negotiating per resource for flavors,
// keypairs, aggregates, services and images) against the compute API, as an operator drives it.
// Servers run on two hosts of this file's own zone, so moves stay among them.
const suffix = crypto.randomUUID().slice(0, 8);
const ZONE = `az-cli-${suffix}`;
const HOSTS = [`cli-a-${suffix}`, `cli-b-${suffix}`];

let dir: string;
let cloud: OpenstackCloud;
const agents: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compute-cli-'));
  cloud = await adminCloud(dir);
  for (const host of HOSTS) agents.push(await startRegisteredTestAgent({ host, availabilityZone: ZONE }));
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await rm(dir, { recursive: true, force: true });
});

type Row = Record<string, unknown>;

const cli = (args: string[]) => openstack(cloud, args);
const cliJson = <T = Row>(args: string[]) => openstackJson<T>(cloud, args);

async function serverShow(name: string) {
  return cliJson<Row>(['server', 'show', name]);
}

describe('the openstack CLI against the compute API', () => {
  it('lists and shows flavors, images and availability zones', { timeout: 120_000 }, async () => {
    const flavors = await cliJson<Row[]>(['flavor', 'list']);
    expect(flavors.find((flavor) => flavor.Name === 'm1.tiny')).toMatchObject({
      ID: '1',
      RAM: 512,
      Disk: 1,
      VCPUs: 1,
      'Is Public': true,
    });
    const tiny = await cliJson(['flavor', 'show', 'm1.tiny']);
    expect(tiny).toMatchObject({ id: '1', name: 'm1.tiny', ram: 512, vcpus: 1, disk: 1 });

    const images = await cliJson<Row[]>(['image', 'list']);
    expect(images.map((image) => image.ID)).toContain(IMAGE);

    const zones = await cliJson<Row[]>(['availability', 'zone', 'list', '--compute']);
    expect(zones).toContainEqual({ 'Zone Name': ZONE, 'Zone Status': 'available' });
  });

  it('creates, lists and deletes a keypair', { timeout: 120_000 }, async () => {
    const name = `cli-key-${suffix}`;
    const privateKey = await cli(['keypair', 'create', name]);
    expect(privateKey).toMatch(/PRIVATE KEY/);
    const listed = await cliJson<Row[]>(['keypair', 'list']);
    expect(listed.find((keypair) => keypair.Name === name)?.Fingerprint).toMatch(
      /^[0-9a-f]{2}(:[0-9a-f]{2})+$/,
    );
    await cli(['keypair', 'delete', name]);
    expect((await cliJson<Row[]>(['keypair', 'list'])).map((keypair) => keypair.Name)).not.toContain(name);
  });

  it('lists hypervisors and compute services, and shows quotas', { timeout: 120_000 }, async () => {
    const hypervisors = await cliJson<Row[]>(['hypervisor', 'list']);
    for (const host of HOSTS) {
      expect(hypervisors.find((hypervisor) => hypervisor['Hypervisor Hostname'] === host)).toMatchObject({
        State: 'up',
        'Hypervisor Type': expect.any(String),
      });
    }
    const services = await cliJson<Row[]>(['compute', 'service', 'list']);
    for (const host of HOSTS) {
      expect(services.find((service) => service.Host === host)).toMatchObject({
        Binary: 'nova-compute',
        Zone: ZONE,
        Status: 'enabled',
        State: 'up',
      });
    }
    const quota = await cliJson<Row>(['quota', 'show']);
    expect(quota).toMatchObject({
      cores: expect.any(Number),
      instances: expect.any(Number),
      ram: expect.any(Number),
    });
  });

  it('creates, lists and deletes an aggregate', { timeout: 120_000 }, async () => {
    const name = `cli-agg-${suffix}`;
    const created = await cliJson(['aggregate', 'create', name]);
    expect(created).toMatchObject({ name });
    expect((await cliJson<Row[]>(['aggregate', 'list'])).map((aggregate) => aggregate.Name)).toContain(name);
    await cli(['aggregate', 'delete', name]);
    expect((await cliJson<Row[]>(['aggregate', 'list'])).map((aggregate) => aggregate.Name)).not.toContain(
      name,
    );
  });

  it('runs a server through its life: create, stop, start, reboot, resize, migrate, live-migrate, delete', {
    timeout: 300_000,
  }, async () => {
    const name = `cli-vm-${suffix}`;
    const created = await cliJson([
      'server',
      'create',
      // By name, as users do: the CLI resolves it through the image service.
      '--image',
      'cirros-0.3.1-x86_64',
      '--flavor',
      'm1.tiny',
      '--availability-zone',
      ZONE,
      '--wait',
      name,
    ]);
    expect(created).toMatchObject({ name, status: 'ACTIVE', 'OS-EXT-AZ:availability_zone': ZONE });
    const firstHost = created['OS-EXT-SRV-ATTR:host'];
    expect(HOSTS).toContain(firstHost);

    // The running server counts in its project's usage (OSC 6.0 shows the project by id).
    const { project_id: projectId } = await cliJson<{ project_id: string }>(['token', 'issue']);
    const usage = await cliJson<Row[]>(['usage', 'list']);
    const ours = usage.find((row) => row.Project === projectId);
    expect(ours?.Servers).toContainEqual(
      expect.objectContaining({ name, flavor: 'm1.tiny', state: 'active' }),
    );
    expect(ours?.['CPU Hours']).toBeGreaterThan(0);

    const listed = await cliJson<Row[]>(['server', 'list', '--name', name]);
    expect(listed).toEqual([expect.objectContaining({ Name: name, Status: 'ACTIVE', Flavor: 'm1.tiny' })]);

    await cli(['server', 'stop', name]);
    await expect.poll(async () => (await serverShow(name)).status, { timeout: 30_000 }).toBe('SHUTOFF');
    await cli(['server', 'start', name]);
    await expect.poll(async () => (await serverShow(name)).status, { timeout: 30_000 }).toBe('ACTIVE');
    await cli(['server', 'reboot', '--wait', name]);
    expect((await serverShow(name)).status).toBe('ACTIVE');

    await cli(['server', 'resize', '--flavor', 'm1.small', '--wait', name]);
    expect((await serverShow(name)).status).toBe('VERIFY_RESIZE');
    await cli(['server', 'resize', 'confirm', name]);
    await expect.poll(async () => (await serverShow(name)).status, { timeout: 30_000 }).toBe('ACTIVE');
    const resized = await serverShow(name);
    expect(resized.flavor).toMatch(/^m1\.small/);
    const afterResize = resized['OS-EXT-SRV-ATTR:host'];
    expect(afterResize).not.toBe(firstHost);

    await cli(['server', 'migrate', '--wait', name]);
    expect((await serverShow(name)).status).toBe('VERIFY_RESIZE');
    await cli(['server', 'migrate', 'confirm', name]);
    await expect.poll(async () => (await serverShow(name)).status, { timeout: 30_000 }).toBe('ACTIVE');
    const afterMigrate = (await serverShow(name))['OS-EXT-SRV-ATTR:host'];
    expect(afterMigrate).toBe(firstHost);

    await cli(['server', 'migrate', '--live-migration', '--wait', name]);
    const afterLive = await serverShow(name);
    expect(afterLive).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': afterResize });

    await cli(['server', 'delete', '--wait', name]);
    expect(await cliJson<Row[]>(['server', 'list', '--name', name])).toEqual([]);
  });
});
