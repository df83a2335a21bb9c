import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { microversionDocument } from '../../functions/api/nova-v21/microversion-doc.ts';
import { declarations, NOVA_MICROVERSIONS } from '../../functions/api/nova-v21/microversion-table.ts';
import { ALL_FACES, MAX_MICROVERSION } from '../../functions/api/nova-v21/registry.ts';

describe('compute microversions', () => {
  it('docs/compute-microversions.md is what `npm run docs` writes from the faces', async () => {
    const committed = await readFile(new URL('../../docs/compute-microversions.md', import.meta.url), 'utf8');
    expect(committed, 'docs/compute-microversions.md is stale: run `npm run docs`').toBe(
      microversionDocument(ALL_FACES),
    );
  });

  it('lists every Nova microversion once, in order, and faces declare only those', () => {
    expect(NOVA_MICROVERSIONS.map((entry) => entry.minor)).toEqual(
      Array.from({ length: NOVA_MICROVERSIONS.length }, (_, index) => index + 2),
    );
    const known = new Set(NOVA_MICROVERSIONS.map((entry) => entry.minor));
    for (const face of ALL_FACES) {
      for (const entry of face.microversions) {
        expect(known.has(entry.minor), `${face.alias} declares 2.${entry.minor}`).toBe(true);
        // A change declared as implemented cannot also be one that concerns nothing we serve.
        expect(
          NOVA_MICROVERSIONS[entry.minor - 2]?.notServed,
          `${face.alias} 2.${entry.minor}`,
        ).toBeUndefined();
      }
    }
  });

  it('advertises the highest version below the first change not implemented by every face it concerns', () => {
    const declared = declarations(ALL_FACES);
    const covered = (entry: (typeof NOVA_MICROVERSIONS)[number]) => {
      const by = declared.get(entry.minor) ?? [];
      return by.length > 0 && (entry.concerns ?? []).every((alias) => by.includes(alias));
    };
    const firstGap = NOVA_MICROVERSIONS.find((entry) => !entry.notServed && !covered(entry));
    expect(MAX_MICROVERSION).toBe(firstGap ? firstGap.minor - 1 : NOVA_MICROVERSIONS.length + 1);
  });

  it('names only faces that exist as the ones a change concerns', () => {
    const aliases = new Set(ALL_FACES.map((face) => face.alias));
    for (const entry of NOVA_MICROVERSIONS) {
      for (const alias of entry.concerns ?? [])
        expect(aliases.has(alias), `2.${entry.minor}: ${alias}`).toBe(true);
    }
  });
});
