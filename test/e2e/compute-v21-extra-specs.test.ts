import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, replicaCaughtUp } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import { v21Call } from '../helpers/v21.ts';

// os-extra_specs from compute 2.86: a spec in a namespace Nova knows must be one it knows, with a
// value its rule accepts; other namespaces stay the operator's. A version the stack does not advertise
// yet is served in-process by the same route code (test/helpers/v21.ts).
const suffix = crypto.randomUUID().slice(0, 8);

type Specs = Record<string, string | number>;
interface Answer {
  extra_specs?: Record<string, string>;
  badRequest?: { code: number; message: string };
}

describe('os-extra_specs validation (2.86)', () => {
  let admin: string;
  let member: string;
  const created: string[] = [];

  async function createFlavor(name: string): Promise<string> {
    const answer = await v21Call<{ flavor: { id: string } }>(1, 'POST', '/v2.1/flavors', {
      token: admin,
      body: { flavor: { name: `${name}-${suffix}`, ram: 512, vcpus: 1, disk: 1 } },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    created.push(answer.body.flavor.id);
    return answer.body.flavor.id;
  }

  const setSpecs = (minor: number, flavorId: string, specs: Specs, token = admin) =>
    v21Call<Answer>(minor, 'POST', `/v2.1/flavors/${flavorId}/os-extra_specs`, {
      token,
      body: { extra_specs: specs },
    });
  const updateSpec = (minor: number, flavorId: string, key: string, value: string | number) =>
    v21Call<Answer>(minor, 'PUT', `/v2.1/flavors/${flavorId}/os-extra_specs/${key}`, {
      token: admin,
      body: { [key]: value },
    });

  /** What the flavor holds; writes served in-process carry no consistency token, hence the wait. */
  async function storedSpecs(flavorId: string): Promise<Record<string, string>> {
    await replicaCaughtUp();
    const answer = await v21Call<Answer>(1, 'GET', `/v2.1/flavors/${flavorId}/os-extra_specs`, {
      token: admin,
    });
    expect(answer.status).toBe(200);
    return answer.body.extra_specs ?? {};
  }

  beforeAll(async () => {
    admin = await login();
    await createMember(`v21-specs-${suffix}`, 'secret-password');
    member = await login(`v21-specs-${suffix}`, 'secret-password');
  });

  afterAll(async () => {
    for (const id of created) await v21Call(1, 'DELETE', `/v2.1/flavors/${id}`, { token: admin });
  });

  it("sets valid specs Nova knows, the scheduler's own and any outside Nova's namespaces", async () => {
    const flavorId = await createFlavor('v21-specs-valid');
    const specs = {
      'hw:cpu_policy': 'dedicated',
      'hw:numa_nodes': 2,
      'hw:mem_page_size': '2MB',
      'quota:disk_read_bytes_sec': 10240,
      'resources1:VCPU': '2',
      'trait:HW_CPU_X86_AVX2': 'required',
      'trait:CUSTOM_GOLD': 'forbidden',
      'pci_passthrough:alias': 'gpu:1, nic:2',
      group_policy: 'isolate',
      'capabilities:cpu_features': '<in> avx2',
      'capabilities:cpu.percent': '<= 50',
      'aggregate_instance_extra_specs:pool': 'true',
      dedicated: 'true',
      'acme:anything': 'goes',
    };
    const asText = { ...specs, 'hw:numa_nodes': '2', 'quota:disk_read_bytes_sec': '10240' };
    const set = await setSpecs(86, flavorId, specs);
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.headers.get('x-openstack-nova-api-version')).toBe('2.86');
    expect(set.body).toEqual({ extra_specs: asText });
    expect(await storedSpecs(flavorId)).toEqual(asText);

    const updated = await updateSpec(86, flavorId, 'hw:cpu_policy', 'mixed');
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toEqual({ 'hw:cpu_policy': 'mixed' });
  });

  it('refuses an unknown key of a known namespace or a value breaking its rule, naming both, and writes nothing', async () => {
    const flavorId = await createFlavor('v21-specs-invalid');
    for (const [specs, key, rule] of [
      [
        { 'hw:cpu_policy': 'sometimes' },
        'hw:cpu_policy',
        "'sometimes' is not one of: dedicated, shared, mixed",
      ],
      [{ 'hw:cpu_polcy': 'dedicated' }, 'hw:cpu_polcy', 'does not appear to be a valid extra spec'],
      [{ 'hw:numa_nodes': 0 }, 'hw:numa_nodes', "'0' is less than the min value of '1'"],
      [{ 'hw:boot_menu': 'maybe' }, 'hw:boot_menu', "'maybe' is not a valid boolean-like value"],
      [
        { 'trait:HW_CPU_X86_AVX2': 'preferred' },
        'trait:HW_CPU_X86_AVX2',
        'is not one of: required, forbidden',
      ],
      [{ 'resources:VCPUS': '1' }, 'resources:VCPUS', 'does not appear to be a valid extra spec'],
      [{ 'quota:cpu_shares': 'lots' }, 'quota:cpu_shares', "'lots' is not a valid integer value"],
    ] as const) {
      // A valid spec beside the invalid one: the request is refused whole.
      const answer = await setSpecs(86, flavorId, { 'hw:cpu_realtime': 'yes', ...specs });
      expect(answer.status, key).toBe(400);
      expect(answer.body.badRequest?.message, key).toContain(`'${key}'`);
      expect(answer.body.badRequest?.message, key).toContain(rule);
    }

    const badUpdate = await updateSpec(86, flavorId, 'hw:mem_page_size', 'huge');
    expect(badUpdate.status).toBe(400);
    expect(badUpdate.body.badRequest?.message).toContain("'hw:mem_page_size'");
    expect(badUpdate.body.badRequest?.message).toContain("'huge' is not of the format");
    expect(await storedSpecs(flavorId)).toEqual({});
  });

  it('sets any spec below 2.86, as before', async () => {
    const flavorId = await createFlavor('v21-specs-older');
    const specs = { 'hw:cpu_policy': 'sometimes', 'hw:cpu_polcy': 'dedicated', 'hw:numa_nodes': '0' };
    const set = await setSpecs(85, flavorId, specs);
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.headers.get('x-openstack-nova-api-version')).toBe('2.85');
    const updated = await updateSpec(85, flavorId, 'hw:mem_page_size', 'huge');
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(await storedSpecs(flavorId)).toEqual({ ...specs, 'hw:mem_page_size': 'huge' });
  });

  it('asks the policy first, then judges the specs, then looks the flavor up', async () => {
    const flavorId = await createFlavor('v21-specs-order');
    const invalid = { 'hw:cpu_policy': 'sometimes' };
    expect((await setSpecs(86, flavorId, invalid, member)).status).toBe(403);
    const missing = `no-such-flavor-${suffix}`;
    expect((await setSpecs(86, missing, invalid)).status).toBe(400);
    expect((await setSpecs(86, missing, { 'hw:cpu_policy': 'shared' })).status).toBe(404);
    // Nova judges the value before noticing that the body names another key than the URL.
    const mismatched = await v21Call<Answer>(86, 'PUT', `/v2.1/flavors/${flavorId}/os-extra_specs/hw:pmu`, {
      token: admin,
      body: { 'hw:cpu_policy': 'sometimes' },
    });
    expect(mismatched.status).toBe(400);
    expect(mismatched.body.badRequest?.message).toContain("'hw:cpu_policy'");
  });
});
