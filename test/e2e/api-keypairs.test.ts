import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, login } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';

const FINGERPRINT = /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/;

interface KeyPair {
  name: string;
  public_key: string;
  fingerprint: string;
  user_id?: string;
  private_key?: string;
}

describe('keypairs', () => {
  let admin: string;
  let member: string;
  const suffix = crypto.randomUUID().slice(0, 8);
  beforeAll(async () => {
    admin = await login();
    await createMember(`kp-member-${suffix}`, 'secret-password');
    member = await login(`kp-member-${suffix}`, 'secret-password');
  });

  it('generates a key pair whose private key OpenSSH accepts, and returns the private key only once', async () => {
    const name = `generated-${suffix}`;
    const created = await call<{ keypair: KeyPair }>('POST', '/v3/keypairs', {
      token: member,
      body: { keypair: { name } },
    });
    expect(created.status).toBe(201);
    expect(created.body.keypair).toMatchObject({ name, fingerprint: expect.stringMatching(FINGERPRINT) });
    expect(created.body.keypair.public_key).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+/);
    expect(typeof created.body.keypair.user_id).toBe('string');
    const privateKey = created.body.keypair.private_key ?? '';
    expect(privateKey).toContain('BEGIN OPENSSH PRIVATE KEY');

    const dir = mkdtempSync(join(tmpdir(), 'kp-'));
    writeFileSync(join(dir, 'id'), privateKey, { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'id')])
      .toString()
      .trim();
    expect(created.body.keypair.public_key.startsWith(derived.split(' ').slice(0, 2).join(' '))).toBe(true);

    const shown = await call<{ keypair: KeyPair }>('GET', `/v3/keypairs/${name}`, { token: member });
    expect(shown.status).toBe(200);
    expect(shown.body.keypair.fingerprint).toBe(created.body.keypair.fingerprint);
    expect(shown.body.keypair).not.toHaveProperty('private_key');
    expect((await call('DELETE', `/v3/keypairs/${name}`, { token: member })).status).toBe(202);
    expect((await call('GET', `/v3/keypairs/${name}`, { token: member })).status).toBe(404);
  });

  it('imports a public key with the fingerprint ssh-keygen computes, and lists it nested as Havana did', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', join(dir, 'id')]);
    const publicKey = execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'id')])
      .toString()
      .trim();
    const expected = execFileSync('ssh-keygen', ['-E', 'md5', '-l', '-f', join(dir, 'id.pub')])
      .toString()
      .split(' ')[1]
      ?.replace('MD5:', '');
    const name = `imported-${suffix}`;
    const imported = await call<{ keypair: KeyPair }>('POST', '/v3/keypairs', {
      token: member,
      body: { keypair: { name, public_key: publicKey } },
    });
    expect(imported.status).toBe(201);
    expect(imported.body.keypair.fingerprint).toBe(expected);
    expect(imported.body.keypair).not.toHaveProperty('private_key');

    const list = await call<{ keypairs: Array<{ keypair: KeyPair }> }>('GET', '/v3/keypairs', {
      token: member,
    });
    expect(list.body.keypairs).toContainEqual({
      keypair: { name, public_key: imported.body.keypair.public_key, fingerprint: expected },
    });
    // Key pairs belong to their user: another user neither lists nor finds it.
    const adminList = await call<{ keypairs: Array<{ keypair: KeyPair }> }>('GET', '/v3/keypairs', {
      token: admin,
    });
    expect(adminList.body.keypairs.map((item) => item.keypair.name)).not.toContain(name);
    expect((await call('GET', `/v3/keypairs/${name}`, { token: admin })).status).toBe(404);
    expect((await call('DELETE', `/v3/keypairs/${name}`, { token: admin })).status).toBe(404);
    await call('DELETE', `/v3/keypairs/${name}`, { token: member });
  });

  it('answers 409 for a duplicate name, also when the creates race', async () => {
    const name = `race-${suffix}`;
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call('POST', '/v3/keypairs', { token: member, body: { keypair: { name } } }),
      ),
    );
    expect(results.map((result) => result.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    const conflict = results.find((result) => result.status === 409);
    expect(conflict?.body).toHaveProperty('conflictingRequest.code', 409);
    await call('DELETE', `/v3/keypairs/${name}`, { token: member });
  });

  it.each([
    ['a missing name', { keypair: {} }, 'keypair.name'],
    ['a name with bad characters', { keypair: { name: 'no/slash' } }, 'keypair.name'],
    [
      'a malformed public key',
      { keypair: { name: `bad-${suffix}`, public_key: 'ssh-rsa !!!' } },
      'keypair.public_key',
    ],
    [
      'a key whose type does not match its data',
      {
        keypair: {
          name: `bad2-${suffix}`,
          public_key: 'ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIEgOVDz7l8L+t82mXgn0NKA1MH4uKV8QoHy1RNZRAA1z',
        },
      },
      'keypair.public_key',
    ],
  ])('answers 400 naming the field for %s', async (_case, body, field) => {
    const response = await call<{ badRequest: { message: string } }>('POST', '/v3/keypairs', {
      token: member,
      body,
    });
    expect(response.status).toBe(400);
    expect(response.body.badRequest.message).toContain(field);
  });
});
