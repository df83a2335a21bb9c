import type { Context } from 'hono';
import type { AppEnv } from './context.ts';

// Havana v3 links: `self` carries the version prefix, `bookmark` does not. The v2.1 face links to
// its own prefix, so a client follows links within the API it speaks.
export function resourceLinks(c: Context<AppEnv>, collection: string, id: string) {
  const origin = new URL(c.req.url).origin;
  const prefix = c.var.computeFace === 'v2.1' ? 'v2.1' : 'v3';
  return [
    { href: `${origin}/${prefix}/${collection}/${id}`, rel: 'self' },
    { href: `${origin}/${collection}/${id}`, rel: 'bookmark' },
  ];
}

export function bookmarkLink(c: Context, collection: string, id: string) {
  return [{ href: `${new URL(c.req.url).origin}/${collection}/${id}`, rel: 'bookmark' }];
}
