/**
 * Datadog's 18-hour rule: a log whose official time is more than 18 h old is accepted (202) and then dropped at
 * intake. The Kandji pipeline takes that time from `occurred_at` (audit) or `detection_datetime` (detections);
 * behavioral detections are dated by their `detection_date` (sent as `timestamp` too, log-items.ts DATED_BY).
 * The stream's policy chooses what to do with such events (stalePolicyFor):
 * - `ship` (default of audit and threats): send them as they are (Datadog will drop them); count them and warn once
 *   per stream;
 * - `restamp`: keep them: the time field becomes the shipping time, the original moves to
 *   `kandji_datadog_original_time` (see docs/design.md, Shipping to Datadog, for what this does to the built-in pipeline);
 * - `drop`: count them and do not send them.
 * Detections default to `restamp`: a detection's time is when it was first seen, usually days ago, so `ship`
 * would have Datadog drop nearly every detection of a fleet. Behavioral detections too: a status change of a
 * detection of last week is news now, and the first sweep reads days back.
 */
import { DATED_BY, TIMESTAMP_KEY } from './log-items';

export const STALE_POLICIES = ['ship', 'restamp', 'drop'] as const;
export type StalePolicy = (typeof STALE_POLICIES)[number];

export type StreamOfPolicy = 'audit' | 'detections' | 'threats' | 'behavioral-detections';
export type StalePolicies = Partial<Record<StreamOfPolicy, StalePolicy>>;

/** What each stream does when nothing is configured. */
export const DEFAULT_STALE_POLICIES: Record<StreamOfPolicy, StalePolicy> = {
  audit: 'ship',
  detections: 'restamp',
  threats: 'ship',
  'behavioral-detections': 'restamp',
};

/**
 * The policy of a stream: the first that is set of the tenant's own (tenants file `staleEvents`), the worker's per
 * stream (DD_STALE_EVENTS_<STREAM>), the worker's for every stream (DD_STALE_EVENTS), else the stream's default.
 */
export function stalePolicyFor(
  stream: StreamOfPolicy,
  tenant: StalePolicies | undefined,
  perStream: StalePolicies | undefined,
  all: StalePolicy | undefined,
): StalePolicy {
  return tenant?.[stream] ?? perStream?.[stream] ?? all ?? DEFAULT_STALE_POLICIES[stream];
}

/** 18 h, less a margin for the time between our check and Datadog's intake. */
export const STALE_AFTER_MS = 18 * 3_600_000 - 5 * 60_000;
export const ORIGINAL_TIME_ATTRIBUTE = 'kandji_datadog_original_time';

/** The field Datadog dates a record by (the Kandji pipeline's, or the stream's own: DATED_BY). */
export function timeFieldOf(record: Record<string, unknown>, stream?: StreamOfPolicy): string | undefined {
  const own = stream ? DATED_BY[stream] : undefined;
  if (own) return typeof record[own] === 'string' ? own : undefined;
  if (typeof record.occurred_at === 'string') return 'occurred_at';
  if (typeof record.detection_datetime === 'string') return 'detection_datetime';
  return undefined;
}

/** Milliseconds since the epoch of a record's official time, or undefined when it has none we can read. */
export function officialTimeMs(record: Record<string, unknown>, stream?: StreamOfPolicy): number | undefined {
  const field = timeFieldOf(record, stream);
  if (!field) return undefined;
  const text = record[field] as string;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

export function isStale(record: Record<string, unknown>, now: number, stream?: StreamOfPolicy): boolean {
  const t = officialTimeMs(record, stream);
  return t !== undefined && now - t > STALE_AFTER_MS;
}

/**
 * Applies `restamp` to a stale record: a copy with the time field set to `now`, the original kept. A stream dated by
 * a `timestamp` of our own (DATED_BY: behavioral detections) keeps its time field unchanged: only `timestamp` is set.
 */
export function restamp(
  record: Record<string, unknown>,
  now: number,
  stream?: StreamOfPolicy,
): Record<string, unknown> {
  const field = timeFieldOf(record, stream);
  if (!field) return record;
  const stamp = new Date(now).toISOString().replace('Z', '000Z');
  return {
    ...record,
    [stream && DATED_BY[stream] ? TIMESTAMP_KEY : field]: stamp,
    [ORIGINAL_TIME_ATTRIBUTE]: { field, value: record[field] },
  };
}
