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
export const SERVICE_OF_STREAM = { audit: 'audit', detections: 'detection', threats: 'threat' } as const;

export type LogItem = Record<string, unknown>;

export interface LogItemContext {
  service: string;
  /** Comma-separated `key:value` tags. */
  ddtags: string;
  hostname?: string;
}

/** Keys the intake gives meaning to; a Kandji record never carries them, and ours win if one ever does. */
export const RESERVED_KEYS = ['ddsource', 'service', 'ddtags', 'hostname'] as const;

export function toLogItem(record: Record<string, unknown>, ctx: LogItemContext): LogItem {
  const item: LogItem = { ...record, ddsource: DD_SOURCE, service: ctx.service, ddtags: ctx.ddtags };
  if (ctx.hostname) item.hostname = ctx.hostname;
  return item;
}

/** Builds the `ddtags` string. Commas (the separator) are replaced; Datadog itself lower-cases tags at intake. */
export function formatTags(tags: Record<string, string>, extra: readonly string[] = []): string {
  const clean = (s: string) => s.replace(/,/g, '_').trim();
  return [...Object.entries(tags).map(([k, v]) => `${clean(k)}:${clean(v)}`), ...extra.map(clean)]
    .filter(Boolean)
    .join(',');
}
