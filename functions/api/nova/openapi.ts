import { toJsonSchema } from '@valibot/to-json-schema';
import type { GenericSchema } from 'valibot';
import type { Route } from '../route.ts';
import type { Extension } from './extension.ts';

// The OpenAPI 3.1 document is built from the loaded extensions' route declarations: the same valibot
// schemas that validate requests describe them here.
function jsonSchema(schema: GenericSchema) {
  // Input types are what clients send; transforms (e.g. href → uuid) are an implementation detail.
  return toJsonSchema(schema, { target: 'draft-2020-12', typeMode: 'input', errorMode: 'ignore' });
}

export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operation(extension: Extension, spec: Route) {
  const parameters = [
    ...[...spec.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => ({
      name: match[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    })),
    ...Object.entries(
      (spec.query ? (jsonSchema(spec.query).properties as Record<string, unknown> | undefined) : undefined) ??
        {},
    ).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
  ];
  return {
    summary: spec.summary,
    tags: [extension.alias],
    operationId: `${extension.alias}:${spec.method}:${spec.path}`,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.auth === 'none' ? { security: [] } : {}),
    ...(spec.body
      ? {
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body) } } },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(spec.responses).map(([status, description]) => [status, { description }]),
    ),
  };
}

export function buildOpenApi(extensions: Extension[], serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const extension of extensions) {
    for (const spec of extension.routes) {
      const path = openApiPath(spec.path);
      paths[path] ??= {};
      paths[path][spec.method] = operation(extension, spec);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Compute API v3',
      version: '3.0',
      description: 'The Havana v3 compute API. Every resource is an extension; see GET /v3/extensions.',
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } },
    },
    security: [{ token: [] }],
    tags: extensions.map((extension) => ({
      name: extension.alias,
      description: `${extension.name} (v${extension.version}): ${extension.description}`,
    })),
    paths,
  };
}

const escapeHtml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** A self-contained reference page (no scripts from elsewhere): one section per extension. */
export function renderReference(document: ReturnType<typeof buildOpenApi>): string {
  const sections = document.tags.map((tag) => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => (op as { tags: string[] }).tags.includes(tag.name))
        .map(([method, op]) => {
          const details = op as { summary: string; requestBody?: unknown; parameters?: unknown };
          const extra = [
            details.parameters ? `<pre>${escapeHtml(JSON.stringify(details.parameters, null, 2))}</pre>` : '',
            details.requestBody
              ? `<pre>${escapeHtml(JSON.stringify(details.requestBody, null, 2))}</pre>`
              : '',
          ].join('');
          return `<details><summary><code>${method.toUpperCase()} ${escapeHtml(path)}</code> — ${escapeHtml(details.summary)}</summary>${extra}</details>`;
        }),
    );
    return `<section><h2>${escapeHtml(tag.name)}</h2><p>${escapeHtml(tag.description)}</p>${operations.join('\n')}</section>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(document.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.5rem;overflow:auto}summary{cursor:pointer}</style>
</head><body><h1>${escapeHtml(document.info.title)}</h1><p>${escapeHtml(document.info.description)} Machine-readable: <a href="/v3/openapi.json">/v3/openapi.json</a>.</p>
${sections.join('\n')}</body></html>`;
}
