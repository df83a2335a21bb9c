import { describe, expect, it } from 'vitest';
import { keystoneTime } from '../../functions/api/keystone/views.ts';
import { buildCatalog, CATALOG_SERVICES } from '../../functions/identity/catalog.ts';
import { issueToken, newAuditId, type TokenClaims, verifyToken } from '../../functions/identity/tokens.ts';

const SECRET = 'a-test-secret-that-is-long-enough-to-sign';

function claims(overrides: Partial<TokenClaims> = {}): TokenClaims {
  const now = Date.now();
  return {
    user_id: 'u1',
    user_name: 'alice',
    project_id: 'p1',
    project_name: 'demo',
    roles: [{ id: 'r1', name: 'member' }],
    issued_at: now,
    expires_at: now + 3_600_000,
    audit_id: newAuditId(),
    ...overrides,
  };
}

describe('identity tokens', () => {
  it('gives every token its own url-safe 22-character audit id, carried through verification', async () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newAuditId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const issued = claims();
    expect(await verifyToken(await issueToken(issued, SECRET), SECRET)).toEqual(issued);
  });

  it('refuses a token without an audit id, an expired one, and one signed with another secret', async () => {
    const { audit_id: _, ...withoutAuditId } = claims();
    const legacy = await issueToken(withoutAuditId as TokenClaims, SECRET);
    expect(await verifyToken(legacy, SECRET)).toBeNull();
    const expired = await issueToken(claims({ expires_at: Date.now() - 1 }), SECRET);
    expect(await verifyToken(expired, SECRET)).toBeNull();
    const foreign = await issueToken(claims(), `${SECRET}-other`);
    expect(await verifyToken(foreign, SECRET)).toBeNull();
  });

  it("writes Keystone's timestamps: whole seconds, six zero digits, Z", () => {
    expect(keystoneTime(Date.parse('2026-05-01T12:00:07.789Z'))).toBe('2026-05-01T12:00:07.000000Z');
  });
});

describe('service catalog', () => {
  it('lists every service once, with a public endpoint on the origin in the region (region and region_id)', () => {
    const catalog = buildCatalog('https://cloud.example', 'RegionTwo');
    expect(catalog.map((service) => [service.type, service.name])).toEqual(
      CATALOG_SERVICES.map((service) => [service.type, service.name]),
    );
    expect(catalog.find((service) => service.type === 'compute')).toEqual({
      id: 'compute',
      type: 'compute',
      name: 'nova',
      endpoints: [
        {
          id: 'compute-public',
          interface: 'public',
          region_id: 'RegionTwo',
          region: 'RegionTwo',
          url: 'https://cloud.example/v2.1',
        },
      ],
    });
    expect(catalog.find((service) => service.type === 'identity')?.endpoints[0]?.url).toBe(
      'https://cloud.example/identity',
    );
    expect(catalog.find((service) => service.type === 'image')?.endpoints[0]?.url).toBe(
      'https://cloud.example/image',
    );
    const ids = catalog.flatMap((service) => [
      service.id,
      ...service.endpoints.map((endpoint) => endpoint.id),
    ]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(buildCatalog('https://cloud.example', 'RegionTwo')).toEqual(catalog);
  });
});
