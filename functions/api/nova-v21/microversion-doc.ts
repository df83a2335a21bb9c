import type { V21Face } from './face.ts';
import { formatMicroversion } from './microversion.ts';
import { advertisedMaximum, declarations, isImplemented, NOVA_MICROVERSIONS } from './microversion-table.ts';

// docs/compute-microversions.md, written from the same data the API advertises from (the faces'
// microversion histories and Nova's table), so the document cannot disagree with GET /v2.1.
// `npm run docs` rewrites it; test/unit/compute-microversions-doc.test.ts fails when it is stale.
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

export function microversionDocument(faces: readonly V21Face[]): string {
  const declared = declarations(faces);
  const changes = new Map<number, string[]>();
  for (const face of faces) {
    for (const entry of face.microversions) {
      changes.set(entry.minor, [...(changes.get(entry.minor) ?? []), `\`${face.alias}\`: ${entry.change}`]);
    }
  }
  const max = advertisedMaximum(declared);
  const statuses = NOVA_MICROVERSIONS.map((entry) => {
    const by = declared.get(entry.minor) ?? [];
    const done = changes.get(entry.minor) ?? [];
    if (isImplemented(entry, by)) return { entry, status: 'implemented', how: done.join('; ') };
    if (entry.notServed) return { entry, status: 'nothing to implement', how: entry.notServed };
    if (done.length === 0) return { entry, status: 'not implemented', how: entry.gap ?? 'not built yet' };
    const missing = (entry.concerns ?? []).filter((alias) => !by.includes(alias));
    return {
      entry,
      status: 'partly',
      how: `${done.join('; ')}; not yet for ${missing.map((alias) => `\`${alias}\``).join(', ')}${entry.gap ? ` (${entry.gap})` : ''}`,
    };
  });
  const count = (status: string) => statuses.filter((row) => row.status === status).length;
  return [
    '# Compute API microversions (/v2.1)',
    '',
    `\`GET /v2.1\` advertises \`min_version\` 2.1 and \`version\` **${formatMicroversion(max)}**: the highest`,
    'microversion for which every change from 2.2 up is implemented, or concerns only routes this API',
    'serves at no microversion ("nothing to implement"). Each implemented change is declared, with the',
    "routes it touches, in the `microversions` of the extension's v2.1 face (`functions/api/nova-v21/`);",
    'a change spread over several extensions counts only when each of them declares it. This file is',
    'written from that data by `npm run docs`, and a unit test fails when it is stale.',
    '',
    `Of Nova's ${NOVA_MICROVERSIONS.length} microversions after 2.1: ${count('implemented')} implemented, ${count('nothing to implement')} with nothing to implement, ${count('partly')} partly and ${count('not implemented')} not implemented.`,
    '',
    '| version | change in Nova | here | how, or why not |',
    '| --- | --- | --- | --- |',
    '| 2.1 | the baseline: v2 names with strict input validation | implemented | every /v2.1 route |',
    ...statuses.map(
      ({ entry, status, how }) =>
        `| ${formatMicroversion(entry.minor)} | ${cell(entry.change)} | ${status} | ${cell(how)} |`,
    ),
    '',
  ].join('\n');
}
