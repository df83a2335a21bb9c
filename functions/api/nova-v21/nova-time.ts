// The two forms Nova's v2.1 writes times in. Most times are its JSON form of a naive UTC datetime;
// a server's created and updated times, and its fault's, are utils.isotime's.

/** Microseconds and no zone: `2016-06-23T14:42:02.000000` (usage, action, migration, service times). */
export function novaTime(value: Date | string): string {
  return new Date(value).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export function novaTimeOrNull(value: Date | string | null | undefined): string | null {
  return value === null || value === undefined ? null : novaTime(value);
}

/** Whole seconds and a `Z`: `2013-09-03T04:01:32Z`, from an ISO 8601 time. */
export function isoTime(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}
