/**
 * One page of `GET /api/v1/behavioral-detections` as Kandji answers it: limit/offset (limit at most 1000, also the
 * default), `sort_by`, `detection_date_from` / `detection_date_to` (YYYY-MM-DD, whole UTC days) or `date_range`
 * (days), `classification`, `status`; envelope `{total_count, next, previous, malicious_count, suspicious_count,
 * results}`.
 */
import { BEHAVIORAL_SORT_FIELDS, type BehavioralQuery, type BehavioralStore } from './behavioral-store';
import { MICROS_PER_DAY, nowMicros } from './time';

/** Hard maximum (and default) page size. */
export const BEHAVIORAL_MAX_LIMIT = 1000;

/** The JSON text of one page, or why the request is refused (a 400). */
export function behavioralPage(
  store: BehavioralStore,
  q: URLSearchParams,
  pageUrl: (qs: URLSearchParams) => string,
  maxLimit = BEHAVIORAL_MAX_LIMIT,
): { body: string } | { badRequest: string } {
  const get = (k: string): string | undefined => q.get(k)?.trim() || undefined;
  const whole = (v: string | undefined): number | undefined =>
    v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  const limit = Math.min(Math.max(1, whole(get('limit')) ?? maxLimit), maxLimit);
  const offset = whole(get('offset')) ?? 0;
  const query: BehavioralQuery = { limit, offset };
  const sortBy = get('sort_by');
  if (sortBy !== undefined) {
    const field = sortBy.replace(/^-/, '');
    if (!(BEHAVIORAL_SORT_FIELDS as readonly string[]).includes(field))
      return { badRequest: `Invalid sort_by: "${sortBy}". Expected one of: ${BEHAVIORAL_SORT_FIELDS.join(', ')}.` };
    query.sortBy = sortBy as BehavioralQuery['sortBy'];
  }
  for (const [name, end] of [
    ['detection_date_from', false],
    ['detection_date_to', true],
  ] as const) {
    const v = get(name);
    if (v === undefined) continue;
    const day = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
    if (Number.isNaN(day)) return { badRequest: `Invalid ${name}: "${v}". Expected a date like 2025-03-08.` };
    const micros = BigInt(day) * 1000n;
    if (end) query.to = micros + MICROS_PER_DAY;
    else query.from = micros;
  }
  const range = get('date_range');
  if (range !== undefined) {
    const days = whole(range);
    if (!days) return { badRequest: `Invalid date_range: "${range}". Expected a positive number of days.` };
    query.from = nowMicros() - BigInt(days) * MICROS_PER_DAY;
  }
  const classification = get('classification');
  if (classification !== undefined) {
    if (classification !== 'malicious' && classification !== 'suspicious')
      return { badRequest: `Invalid classification: "${classification}". Expected malicious or suspicious.` };
    query.classification = classification;
  }
  const status = get('status');
  if (status !== undefined) query.status = status;
  const res = store.query(query);
  const at = (off: number) => {
    const qs = new URLSearchParams(q);
    qs.set('limit', String(limit));
    qs.set('offset', String(off));
    return pageUrl(qs);
  };
  return {
    body: JSON.stringify({
      total_count: res.total_count,
      next: offset + limit < res.total_count ? at(offset + limit) : null,
      previous: offset > 0 ? at(Math.max(0, offset - limit)) : null,
      malicious_count: res.malicious_count,
      suspicious_count: res.suspicious_count,
      results: res.results,
    }),
  };
}
