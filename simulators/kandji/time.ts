/**
 * Microsecond-precise time helpers for the Kandji simulator.
 *
 * Kandji timestamps carry microseconds (`2025-03-04T16:29:55.253454Z`), which a JS `Date`
 * cannot hold, so instants are handled as `bigint` microseconds since the Unix epoch.
 */

const MICROS_PER_MS = 1000n;
const MICROS_PER_SECOND = 1_000_000n;
export const MICROS_PER_DAY = 86_400_000_000n;

/** Floor division for bigint (bigint `/` truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

/** `2025-03-04T16:29:55.253454Z`: always 6 fractional digits and `Z` (years 0000-9999). */
export function formatMicros(micros: bigint): string {
  const ms = floorDiv(micros, MICROS_PER_MS);
  const fraction = micros - floorDiv(micros, MICROS_PER_SECOND) * MICROS_PER_SECOND;
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) throw new RangeError(`instant out of range: ${micros}`);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`year out of range: ${year}`);
  return (
    `${pad(year, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    `.${pad(fraction, 6)}Z`
  );
}

/**
 * A naive timestamp (no zone) with 6 fractional digits, as threat-details and the detection CVE
 * dates use: `2023-04-21T17:23:13.883134`, or with `sep: ' '` `2023-10-13 16:15:00.000000`.
 */
export function formatNaiveMicros(micros: bigint, sep: 'T' | ' ' = 'T'): string {
  const s = formatMicros(micros).slice(0, -1);
  return sep === 'T' ? s : s.replace('T', ' ');
}

/** Strict check for the naive wire format (`2023-04-21T17:23:13.883134`). */
export const NAIVE_TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

export function dateToMicros(d: Date): bigint {
  return BigInt(d.getTime()) * MICROS_PER_MS;
}

export function nowMicros(): bigint {
  return BigInt(Date.now()) * MICROS_PER_MS;
}

export interface ParsedInstant {
  micros: bigint;
  /** True when the input was a bare date (`2024-11-26`). */
  dateOnly: boolean;
}

// date, optional time (T or space), optional seconds and 1-6 fractional digits, optional zone.
// The zone may be `Z`, `+hh:mm`, `-hh:mm`, `+hhmm`, or ` hh:mm` (a `+` that a query string
// decoded to a space).
const INSTANT_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|z|[+\- ]\d{2}:?\d{2})?)?$/;

/**
 * Parses a Kandji `start_date` / `end_date` value: a datetime (`2024-11-26T22:58:26.239570Z`,
 * `+00:00` or other offsets, with or without fractional seconds; a datetime without zone is UTC)
 * or a date (`2024-11-26`, midnight UTC). Returns undefined when invalid.
 */
export function parseInstant(input: string): ParsedInstant | undefined {
  const m = INSTANT_RE.exec(input.trim());
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, fs, zone] = m;
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = hs === undefined ? 0 : Number(hs);
  const minute = mis === undefined ? 0 : Number(mis);
  const second = ss === undefined ? 0 : Number(ss);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  // Reject impossible dates such as 2025-02-30 (Date would roll them over).
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  let micros = BigInt(d.getTime()) * MICROS_PER_MS;
  if (fs !== undefined) micros += BigInt(fs.padEnd(6, '0'));
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    const oh = BigInt(digits.slice(0, 2));
    const om = BigInt(digits.slice(2, 4));
    if (oh > 23n || om > 59n) return undefined;
    micros -= sign * (oh * 3600n + om * 60n) * MICROS_PER_SECOND;
  }
  return { micros, dateOnly: hs === undefined };
}

/** Strict check for the `occurred_at` wire format Kandji uses. */
export const OCCURRED_AT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
