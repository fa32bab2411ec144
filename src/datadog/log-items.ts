/**
 * The wire format of what we send to Datadog: one HTTP log item per Kandji record, with the record's own fields
 * unchanged at top level (so Datadog's Kandji pipeline, facets and dashboards read them), plus `ddsource: kandji`,
 * the stream's `service`, `ddtags`, and `hostname` only when one is configured.
 */
export const DD_SOURCE = 'kandji';

/**
 * The Datadog `service` each stream ships as. The built-in Kandji pipeline routes on `audit` and `detection`;
 * threat-details rows have no sub-pipeline there, so they get a service of their own (`threat`) rather than
 * pretending to be the EDR audit records (`service:audit @target_type:file_detection`) the dashboards read.
 */
export const SERVICE_OF_STREAM = {
  audit: 'audit',
  detections: 'detection',
  threats: 'threat',
  'behavioral-detections': 'behavioral_detection',
} as const;

/**
 * Streams whose time field no Datadog pipeline remaps: the log item also carries it as `timestamp` (one of Datadog's
 * default date attributes), so that the log is dated by it. Behavioral detections are dated by `detection_date`
 * (with a zone, e.g. `2025-03-08T17:35:30.462076+00:00`); the record's own fields stay unchanged.
 */
export const DATED_BY: Partial<Record<keyof typeof SERVICE_OF_STREAM, string>> = {
  'behavioral-detections': 'detection_date',
};

export type LogItem = Record<string, unknown>;

export interface LogItemContext {
  service: string;
  /** Comma-separated `key:value` tags. */
  ddtags: string;
  hostname?: string;
  /** The record's field the log is dated by, sent as `timestamp` too (DATED_BY). */
  datedBy?: string;
}

/** Keys the intake gives meaning to; a Kandji record never carries them, and ours win if one ever does. */
export const RESERVED_KEYS = ['ddsource', 'service', 'ddtags', 'hostname'] as const;
/** The date attribute set for streams dated by a field of their own (DATED_BY). */
export const TIMESTAMP_KEY = 'timestamp';

export function toLogItem(record: Record<string, unknown>, ctx: LogItemContext): LogItem {
  const item: LogItem = { ...record, ddsource: DD_SOURCE, service: ctx.service, ddtags: ctx.ddtags };
  if (ctx.hostname) item.hostname = ctx.hostname;
  // A `timestamp` already there is a restamped one (stale-events.ts restamp): it stays.
  if (ctx.datedBy && item[TIMESTAMP_KEY] === undefined && typeof record[ctx.datedBy] === 'string')
    item[TIMESTAMP_KEY] = record[ctx.datedBy];
  return item;
}

/** Builds the `ddtags` string. Commas (the separator) are replaced; Datadog itself lower-cases tags at intake. */
export function formatTags(tags: Record<string, string>, extra: readonly string[] = []): string {
  const clean = (s: string) => s.replace(/,/g, '_').trim();
  return [...Object.entries(tags).map(([k, v]) => `${clean(k)}:${clean(v)}`), ...extra.map(clean)]
    .filter(Boolean)
    .join(',');
}
