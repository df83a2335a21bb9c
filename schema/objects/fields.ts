import * as v from 'valibot';

// Field schemas shared by several objects, so the same kind of value is checked the same way everywhere.
export const Uuid = v.pipe(v.string(), v.uuid());
export const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
/** Times travel as ISO 8601 strings (Date.prototype.toISOString), never as Date objects. */
export const Timestamp = v.pipe(v.string(), v.isoTimestamp());
export const StringMap = v.record(v.string(), v.string());
