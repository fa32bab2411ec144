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
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = zone.replace(':', '');
    offsetMinutes = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
  }
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMinutes * 60_000;
  if (Number.isNaN(ms)) throw new TypeError(`not a valid date: ${JSON.stringify(text)}`);
  const t = new Date(ms);
  if (offsetMinutes === 0 && (t.getUTCMonth() + 1 !== Number(mo) || t.getUTCDate() !== Number(d))) {
    throw new TypeError(`not a valid date: ${JSON.stringify(text)}`);
  }
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
