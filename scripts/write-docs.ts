import { writeFile } from 'node:fs/promises';
import { microversionDocument } from '../functions/api/nova-v21/microversion-doc.ts';
import { ALL_FACES } from '../functions/api/nova-v21/registry.ts';

// `npm run docs`: rewrites the documents generated from the code.
const target = new URL('../docs/compute-microversions.md', import.meta.url);
await writeFile(target, microversionDocument(ALL_FACES));
console.log(`wrote ${target.pathname}`);
