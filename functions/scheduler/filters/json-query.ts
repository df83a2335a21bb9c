import { hintString } from '../hints.ts';
import { freeDiskGb, freeRamMb, freeVcpus, type HostState } from '../request-spec.ts';
import type { HostFilter } from './filter.ts';

// Nova's JsonFilter language: prefix lists such as ["and", [">=", "$free_ram_mb", 1024], ["in",
// "$hypervisor_type", "kvm", "fake"]]; `$name` reads a host attribute, `$metrics.<name>` a metric.
type Value = string | number | boolean | null | undefined;

class QueryError extends Error {}

function variables(host: HostState): Record<string, Value> {
  return {
    host: host.host,
    hypervisor_hostname: host.hypervisor_hostname,
    hypervisor_type: host.hypervisor_type,
    hypervisor_version: host.hypervisor_version,
    availability_zone: host.availability_zone,
    free_ram_mb: freeRamMb(host),
    free_disk_mb: freeDiskGb(host) * 1024,
    free_vcpus: freeVcpus(host),
    total_usable_ram_mb: host.memory_mb * host.ram_allocation_ratio,
    vcpus_total: host.vcpus,
    vcpus_used: host.vcpus_used,
    memory_mb: host.memory_mb,
    memory_mb_used: host.memory_mb_used,
    local_gb: host.local_gb,
    local_gb_used: host.local_gb_used,
    running_vms: host.running_vms,
  };
}

function resolve(term: unknown, host: HostState): Value {
  if (Array.isArray(term)) return evaluate(term, host);
  if (typeof term === 'string' && term.startsWith('$')) {
    const name = term.slice(1);
    if (name.startsWith('metrics.'))
      return host.metrics.find((metric) => metric.name === name.slice('metrics.'.length))?.value;
    return variables(host)[name];
  }
  if (term === null || ['string', 'number', 'boolean'].includes(typeof term)) return term as Value;
  throw new QueryError(`unsupported term ${JSON.stringify(term)}`);
}

function compare(values: Value[], test: (a: Value, b: Value) => boolean): boolean {
  const [first, ...rest] = values;
  return rest.length > 0 && rest.every((other) => test(first, other));
}

function evaluate(expression: unknown[], host: HostState): Value {
  const [operator, ...terms] = expression;
  const values = () => terms.map((term) => resolve(term, host));
  const ordered = (a: Value, b: Value) => a !== null && a !== undefined && b !== null && b !== undefined;
  switch (operator) {
    case '=':
      return compare(values(), (a, b) => String(a) === String(b));
    case '<':
      return compare(values(), (a, b) => ordered(a, b) && (a as number) < (b as number));
    case '>':
      return compare(values(), (a, b) => ordered(a, b) && (a as number) > (b as number));
    case '<=':
      return compare(values(), (a, b) => ordered(a, b) && (a as number) <= (b as number));
    case '>=':
      return compare(values(), (a, b) => ordered(a, b) && (a as number) >= (b as number));
    case 'in': {
      const [first, ...rest] = values();
      return rest.includes(first);
    }
    case 'not':
      return !values().every(Boolean);
    case 'or':
      return terms.some((term) => Boolean(resolve(term, host)));
    case 'and':
      return terms.every((term) => Boolean(resolve(term, host)));
    default:
      throw new QueryError(`unknown operator ${JSON.stringify(operator)}`);
  }
}

/** Evaluates a `query` hint against a host; throws QueryError for a malformed expression. */
export function evaluateQuery(query: string, host: HostState): boolean {
  const expression: unknown = JSON.parse(query);
  if (!Array.isArray(expression)) throw new QueryError('the query must be a list expression');
  return Boolean(evaluate(expression, host));
}

export const jsonQueryFilter: HostFilter = {
  name: 'JsonFilter',
  description:
    'The host satisfies the query hint: a JSON list expression with =, <, >, <=, >=, in, not, or, and over $host attributes.',
  hints: ['query'],
  passes(host, spec) {
    const query = hintString(spec.scheduler_hints.query);
    if (query === undefined) return null;
    try {
      return evaluateQuery(query, host) ? null : `the host does not satisfy the query ${query}`;
    } catch (error) {
      return `the query cannot be evaluated: ${(error as Error).message}`;
    }
  },
};
