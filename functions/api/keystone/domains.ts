import { Hono } from 'hono';
import * as v from 'valibot';
import { DEFAULT_DOMAIN } from '../../identity/domains.ts';
import { Forbidden, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authenticate } from '../middleware/auth.ts';
import { readQuery } from '../middleware/validate.ts';
import { authorize } from '../policy.ts';
import { QueryBoolean } from './input.ts';
import { collectionLinks, domainView } from './views.ts';

// Keystone's /v3/domains with the one domain there is (functions/identity/domains.ts). Clients look it
// up by id or name (`--domain default`); creating, changing or deleting domains is refused.
const DomainFilters = v.strictObject({ name: v.optional(v.string()), enabled: v.optional(QueryBoolean) });

const ONLY_DEFAULT = 'Only the Default domain exists: domains cannot be created, changed or deleted.';

function requireDefault(id: string): void {
  if (id !== DEFAULT_DOMAIN.id) throw new NotFound(`Could not find domain: ${id}.`);
}

export const domainRoutes = new Hono<AppEnv>()
  .get('/domains', authenticate, (c) => {
    authorize(c.var.caller, 'identity:list_domains');
    const filters = readQuery(c, DomainFilters);
    const matches =
      (filters.name === undefined || filters.name === DEFAULT_DOMAIN.name) && filters.enabled !== false;
    return c.json({ domains: matches ? [domainView(c)] : [], links: collectionLinks(c) });
  })
  // Every user is in the default domain, so reading it is everyone's own (identity:get_domain).
  .get('/domains/:domain_id', authenticate, (c) => {
    authorize(c.var.caller, 'identity:get_domain');
    requireDefault(c.req.param('domain_id'));
    return c.json({ domain: domainView(c) });
  })
  .post('/domains', authenticate, () => {
    throw new Forbidden(ONLY_DEFAULT);
  })
  .patch('/domains/:domain_id', authenticate, (c) => {
    requireDefault(c.req.param('domain_id'));
    throw new Forbidden(ONLY_DEFAULT);
  })
  .delete('/domains/:domain_id', authenticate, (c) => {
    requireDefault(c.req.param('domain_id'));
    throw new Forbidden(ONLY_DEFAULT);
  });
