import { freeRamSql } from '../host-query.ts';
import { freeRamMb } from '../request-spec.ts';
import type { HostWeigher } from './weigher.ts';

// A positive multiplier spreads (most free RAM first); a negative one stacks (fill hosts up first).
export const ramWeigher: HostWeigher = {
  name: 'RAMWeigher',
  description: 'Free RAM (allocation ratio applied). Positive multiplier spreads, negative stacks.',
  defaultMultiplier: 1,
  sql: freeRamSql,
  weigh: (host) => freeRamMb(host),
};
