/**
 * Kandji timestamps as exact, sortable keys. `occurred_at` has microseconds (`2025-03-04T16:29:55.253454Z`),
 * more than a JS Date holds, so ordering and equality work on a normalised string instead:
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC, which sorts lexically in time order.
 * Pure functions: safe in workflow code.
 */
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Normalises an ISO-8601 timestamp or date to a microsecond UTC key. A missing zone is read as UTC. */
export function timestampKey(text: string): string {
  const m = TS_RE.exec(text.trim());
  if (!m) throw new TypeError(`not an ISO-8601 timestamp: ${JSON.stringify(text)}`);
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const micros = (frac + '000000').slice(0, 6);
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = zone.replace(':', '');
    const [oh, om] = [Number(z.slice(1, 3)), Number(z.slice(3, 5))];
    if (oh > 14 || om > 59) throw new TypeError(`not a valid zone offset: ${JSON.stringify(text)}`);
    offsetMinutes = (z[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // Reject impossible fields (2026-02-30, 10:60) instead of letting Date roll them over.
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, 0);
  if (
    year < 1 ||
    local.getUTCFullYear() !== year ||
    local.getUTCMonth() !== month - 1 ||
    local.getUTCDate() !== day ||
    local.getUTCHours() !== hour ||
    local.getUTCMinutes() !== minute ||
    local.getUTCSeconds() !== second
  ) {
    throw new TypeError(`not a valid date: ${JSON.stringify(text)}`);
  }
  const t = new Date(local.getTime() - offsetMinutes * 60_000);
  return (
    `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}` +
    `T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${micros}Z`
  );
}

/** Milliseconds since the epoch of a timestamp key (microseconds truncated). */
export function keyToMillis(key: string): number {
  return Date.parse(key.slice(0, 23) + 'Z');
}

/** Timestamp key of a millisecond epoch time. */
export function millisToKey(ms: number): string {
  return timestampKey(new Date(ms).toISOString());
}

/**
 * The current time as ISO-8601 text, for status fields. In workflow code it is the workflow task's time (the SDK
 * makes `Date` deterministic), so a replay gives the same text.
 */
export function nowIso(): string {
  return new Date().toISOString();
}
