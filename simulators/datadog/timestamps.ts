/**
 * The official timestamp Datadog gives a log, and the 18 h / 2 h intake window. Datadog's Kandji
 * integration pipeline (https://docs.datadoghq.com/integrations/kandji/) remaps `occurred_at`
 * (audit) or `detection_datetime` (detections) as the date; without them Datadog reads its default
 * date attributes, and without any, stamps the log when received
 * (https://docs.datadoghq.com/logs/log_configuration/processors/log_date_remapper/).
 * Pure functions: no HTTP, no state, no clock.
 */
import type { ReceivedLog } from './intake-validation';
import { MAX_LOG_AGE_MS, MAX_LOG_FUTURE_MS } from './limits';

/** Attributes the Kandji pipeline's date remapper reads, in the order they are tried. */
export const KANDJI_DATE_ATTRIBUTES = ['occurred_at', 'detection_datetime'] as const;

/** Datadog's default timestamp attributes, in the order they are tried. */
export const DEFAULT_TIMESTAMP_ATTRIBUTES = [
  'timestamp',
  'date',
  '_timestamp',
  'Timestamp',
  'eventTime',
  'published_date',
] as const;

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:\s*([Zz]|[+-]\d{2}(?::?\d{2})?))?)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Parses an ISO-8601 string (`YYYY-MM-DD`, optionally `THH:MM[:SS[.fff…]]` and `Z` / `±HH[[:]MM]`)
 * to epoch ms. A time without a zone is read as UTC (unlike `Date.parse`, which reads it as local
 * time). Sub-millisecond digits are truncated. Returns undefined for anything else.
 */
export function parseIso8601(text: string): number | undefined {
  const m = ISO_8601.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = frac === '' ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));

  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years 0–99 as written
  date.setUTCHours(hour, minute, second, ms);
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  return date.getTime() - offsetMinutes * 60_000;
}

/** An ISO-8601 string or a finite epoch-milliseconds number → epoch ms; anything else → undefined. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value) : undefined;
  if (typeof value === 'string') return parseIso8601(value);
  return undefined;
}

export interface OfficialTimestamp {
  timestampMs: number;
  /** The attribute it came from, or undefined when the log was stamped at receipt. */
  source: string | undefined;
}

/**
 * The timestamp Datadog's Kandji pipeline would give `item`: the first of `occurred_at`,
 * `detection_datetime`, then the default timestamp attributes, whose value parses; otherwise
 * `receivedAtMs`. Only top-level attributes are read.
 */
export function officialTimestamp(item: ReceivedLog, receivedAtMs: number): OfficialTimestamp {
  for (const source of [...KANDJI_DATE_ATTRIBUTES, ...DEFAULT_TIMESTAMP_ATTRIBUTES]) {
    if (!Object.prototype.hasOwnProperty.call(item, source)) continue;
    const timestampMs = parseTimestamp(item[source]);
    if (timestampMs !== undefined) return { timestampMs, source };
  }
  return { timestampMs: receivedAtMs, source: undefined };
}

/** True when Datadog would drop a log with this timestamp: > 18 h old or > 2 h in the future. */
export function isOutsideIntakeWindow(timestampMs: number, receivedAtMs: number): boolean {
  return receivedAtMs - timestampMs > MAX_LOG_AGE_MS || timestampMs - receivedAtMs > MAX_LOG_FUTURE_MS;
}
