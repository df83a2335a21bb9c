import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

// Havana's API samples (test/fixtures/nova-v3-api-samples, see its NOTICE): `%(name)s` placeholders in
// JSON templates. Requests are rendered with real values; responses are compared by keys and value
// types, placeholders by pattern.

export const SAMPLES_DIR = new URL('../fixtures/nova-v3-api-samples/', import.meta.url).pathname;

const PLACEHOLDER = /%\((\w+)\)s/g;
const HOST = 'https?://[^/"]+';
const TIMESTAMP = '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:?\\d{2})?';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Placeholder → the pattern a real value must match (Havana's `_get_regexes`); others match any text. */
const PATTERNS: Record<string, string> = {
  host: HOST,
  glance_host: HOST,
  compute_host: '.+',
  timestamp: TIMESTAMP,
  uuid: UUID,
  id: UUID,
  image_id: UUID,
  instance_uuid: UUID,
  password: '[0-9a-zA-Z]{1,12}',
  reservation_id: 'r-[0-9a-zA-Z]{8}',
  hostid: '[0-9a-f]*',
  request_id: 'req-[0-9a-f-]+|[0-9a-zA-Z-]+',
};

/** Objects whose keys are data (a network label, a metadata key), not part of the contract. */
const FREE_KEY_OBJECTS = new Set(['addresses', 'metadata', 'extra_specs']);

export async function sampleFiles(): Promise<{ dir: string; file: string }[]> {
  const entries = await readdir(SAMPLES_DIR, { withFileTypes: true });
  const dirs = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const files: { dir: string; file: string }[] = [];
  for (const dir of dirs.sort()) {
    for (const file of (await readdir(join(SAMPLES_DIR, dir))).sort()) {
      if (file.endsWith('.json.tpl')) files.push({ dir, file });
    }
  }
  return files;
}

export async function readSample(dir: string, file: string): Promise<string> {
  return readFile(join(SAMPLES_DIR, dir, file), 'utf8');
}

/** A request template filled with real values; every placeholder it uses must be given. */
export function renderRequest(template: string, values: Record<string, string | number>): unknown {
  const text = template.replace(PLACEHOLDER, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for placeholder %(${name})s`);
    return String(value);
  });
  return JSON.parse(text);
}

// A placeholder inside a quoted string becomes a pattern; an unquoted one (`"id": %(aggregate_id)s`)
// stands for a number.
// Markers JSON allows inside strings and that no sample uses.
const QUOTED = '\u00a7';
const NUMBER = '\u00a4';

function parseTemplate(template: string): unknown {
  const marked = template
    .replace(/http:\/\/openstack\.example\.com/g, '%(host)s')
    .replace(/:\s*%\((\w+)\)s/g, (_, name: string) => `: "${NUMBER}${name}"`)
    .replace(PLACEHOLDER, (_, name: string) => `${QUOTED}${name}${QUOTED}`);
  return JSON.parse(marked);
}

function stringPattern(template: string): RegExp {
  const parts = template.split(QUOTED);
  const source = parts
    .map((part, index) =>
      index % 2 === 1
        ? `(?:${PATTERNS[part] ?? '.*'})`
        : // Digits in a sample's literal text are its data (flavors/1): any id segment will do.
          part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\d+/g, '[^/]+'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function compare(
  template: unknown,
  actual: unknown,
  path: string,
  problems: string[],
  freeKeys: boolean,
): void {
  if (typeof template === 'string' && template.startsWith(NUMBER)) {
    if (typeof actual !== 'number' && !(typeof actual === 'string' && /^\d+$/.test(actual)))
      problems.push(`${path}: expected a number, got ${typeName(actual)}`);
    return;
  }
  if (typeof template === 'string' && template.includes(QUOTED)) {
    if (typeof actual !== 'string' || !stringPattern(template).test(actual))
      problems.push(`${path}: ${JSON.stringify(actual)} does not match ${template.replaceAll(QUOTED, '%')}`);
    return;
  }
  // Havana samples show null for values that are often set (key_name, task_state): any type will do.
  if (template === null) return;
  if (typeName(template) !== typeName(actual)) {
    problems.push(`${path}: expected ${typeName(template)}, got ${typeName(actual)}`);
    return;
  }
  if (Array.isArray(template) && Array.isArray(actual)) {
    if (template.length === 0) return;
    // An empty answer would match any item shape: the sample's items must be shown at least once.
    if (actual.length === 0) {
      problems.push(`${path}: empty, the sample has ${template.length} item(s)`);
      return;
    }
    // Position by position (links: self then bookmark); a longer list repeats the last sample item.
    actual.forEach((element, index) => {
      compare(template[Math.min(index, template.length - 1)], element, `${path}[${index}]`, problems, false);
    });
    return;
  }
  if (typeof template === 'object' && template && typeof actual === 'object' && actual) {
    const actualRecord = actual as Record<string, unknown>;
    if (freeKeys) {
      // Keys are data (a network label, a metadata key); each value must look like the sample's.
      const [sampleValue] = Object.values(template);
      if (sampleValue === undefined) return;
      if (Object.keys(actualRecord).length === 0) {
        problems.push(`${path}: empty, the sample has entries`);
        return;
      }
      for (const [key, value] of Object.entries(actualRecord)) {
        compare(sampleValue, value, `${path}.${key}`, problems, false);
      }
      return;
    }
    for (const [key, value] of Object.entries(template)) {
      if (!(key in actualRecord)) {
        problems.push(`${path}.${key}: missing`);
        continue;
      }
      compare(value, actualRecord[key], `${path}.${key}`, problems, FREE_KEY_OBJECTS.has(key));
    }
  }
}

/**
 * What differs between a response and a response template: keys the sample has that the response
 * lacks, values of another type, placeholders whose pattern the value does not match. Extra keys are
 * allowed (other loaded extensions add attributes, as Havana's all_extensions samples show).
 */
export function sampleMismatches(template: string, actual: unknown): string[] {
  const problems: string[] = [];
  compare(parseTemplate(template), actual, '$', problems, false);
  return problems;
}
