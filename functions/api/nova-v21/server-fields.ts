import * as v from 'valibot';
import { Fqdn } from '../nova/server-create-options.ts';

// The v2.1 field schemas the server routes and actions share (Nova's parameter_types). A field whose
// value this cloud cannot honour is refused with a 400 that says why, rather than accepted and dropped.

/** The last path segment of an href, or the value itself. */
function lastSegment(ref: string): string {
  return ref.split('/').pop() ?? '';
}

/** An image uuid or an href ending in one; "" (boot from volume) is refused: there is no block storage. */
export const ImageRef = v.pipe(
  v.string(),
  v.transform(lastSegment),
  v.uuid('must be an image uuid or an href ending in one (there is no block storage to boot from)'),
);

/** A flavor id (string or integer) or an href ending in one. */
export const FlavorRef = v.pipe(
  v.union([v.string(), v.number()], 'must be a flavor id or href'),
  v.transform((ref) => lastSegment(String(ref))),
  v.minLength(1, 'must name a flavor'),
);

export const ServerName = v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(255));

export const HostName = v.pipe(v.string(), v.minLength(1, 'must name a compute host'), v.maxLength(255));

export const Metadata = v.record(
  v.pipe(v.string(), v.minLength(1, 'metadata keys must not be empty'), v.maxLength(255)),
  v.pipe(v.string('metadata values must be strings'), v.maxLength(255)),
);

export const AdminPass = v.string();

const TRUE_WORDS = ['true', '1', 'on', 'yes', 'y', 't'];
const BOOLEAN_WORDS = [...TRUE_WORDS, 'false', '0', 'off', 'no', 'n', 'f'];

/** Nova's boolean: JSON true/false or one of its words for them, in any case. */
export const NovaBoolean = v.pipe(
  v.union(
    [
      v.boolean(),
      v.pipe(
        v.string(),
        v.check((word) => BOOLEAN_WORDS.includes(word.toLowerCase())),
      ),
    ],
    'must be a boolean',
  ),
  v.transform((flag) => (typeof flag === 'boolean' ? flag : TRUE_WORDS.includes(flag.toLowerCase()))),
);

/** `MANUAL` only: no hypervisor here grows the guest's partition to fill its disk (AUTO). */
export const DiskConfig = v.pipe(
  v.picklist(['AUTO', 'MANUAL'], 'must be AUTO or MANUAL'),
  v.check(
    (value) => value === 'MANUAL',
    "AUTO is not supported: no hypervisor here resizes the guest's disk",
  ),
);

/** Access addresses have nowhere to be kept: every server shows "" for them. */
export const AccessIp = v.never('access IPs cannot be set: this cloud does not store them');

/** Files to inject: accepted only when there are none, as no hypervisor here injects files. */
export const Personality = v.pipe(
  v.array(v.strictObject({ path: v.string(), contents: v.string() })),
  v.length(0, 'file injection (personality) is not supported by the hypervisors here'),
);

/** A guest hostname from 2.90: one DNS label of 2 to 63 letters, digits and inner hyphens. */
export const HostLabel = v.pipe(
  v.string(),
  v.minLength(2, 'must be at least 2 characters'),
  v.maxLength(63),
  v.regex(
    /^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$/,
    'must be letters, digits and hyphens, not at either end',
  ),
);

/** The hostname a request may set at this microversion: a label from 2.90, a FQDN from 2.94. */
export function hostnameSchema(minor: number) {
  return minor >= 94 ? Fqdn : HostLabel;
}

/** A zone name, or null (2.104's pinned_availability_zone, 2.54's key_name in rebuild). */
export const NameOrNull = v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(255)));

/** A field added at 2.`minor`: below it, a key Nova's schema does not know (400). */
export function since<T extends v.GenericSchema>(minor: number, current: number, schema: T) {
  return v.optional(current >= minor ? schema : v.never(`is not accepted before 2.${minor}`));
}
