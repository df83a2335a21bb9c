import type { Context } from 'hono';

// Havana v3 links: `self` carries the version prefix, `bookmark` does not.
export function resourceLinks(c: Context, collection: string, id: string) {
  const origin = new URL(c.req.url).origin;
  return [
    { href: `${origin}/v3/${collection}/${id}`, rel: 'self' },
    { href: `${origin}/${collection}/${id}`, rel: 'bookmark' },
  ];
}

export function bookmarkLink(c: Context, collection: string, id: string) {
  return [{ href: `${new URL(c.req.url).origin}/${collection}/${id}`, rel: 'bookmark' }];
}
