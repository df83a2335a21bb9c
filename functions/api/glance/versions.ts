import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { type Route, route } from '../route.ts';

// The image API versions we answer, newest first, as Glance Zed lists them when it runs without an
// image cache (no v2.14/v2.16) and without multiple stores (no v2.8, v2.10-v2.13). Every one of them
// serves the read calls we implement unchanged, so listing them is truthful; all share one base URL.
const IMAGE_API_VERSIONS = ['v2.15', 'v2.9', 'v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0'];

function versionsDocument(c: Context<AppEnv>) {
  const href = `${new URL(c.req.url).origin}/image/v2/`;
  return {
    versions: IMAGE_API_VERSIONS.map((id, index) => ({
      id,
      status: index === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href }],
    })),
  };
}

// keystoneauth finds the image endpoint by fetching the catalog URL (`<origin>/image`, with or without
// the slash) before it holds a token for it, so these answer without one, as Glance's version
// negotiation runs before authentication. The root is a 300, `/versions` a 200, both the same body.
const rootDocument = (path: string): Route =>
  route({
    method: 'get',
    path,
    summary: 'List image API versions (multiple choices)',
    auth: 'none',
    responses: { 300: 'versions' },
    handler: (c) => c.json(versionsDocument(c), 300),
  });

export const imageVersionRoutes: Route[] = [
  rootDocument('/image'),
  rootDocument('/image/'),
  route({
    method: 'get',
    path: '/image/versions',
    summary: 'List image API versions',
    auth: 'none',
    responses: { 200: 'versions' },
    handler: (c) => c.json(versionsDocument(c)),
  }),
];
