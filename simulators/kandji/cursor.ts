/**
 * Opaque audit cursors: base64url of JSON holding the sort key of the last returned event,
 * the sort order and the filters, so a page request with only `cursor=` resumes exactly after
 * that event (keyset pagination: ties at one occurred_at are neither lost nor repeated).
 */
import { AUDIT_SORT_BY, type AuditSortBy } from './audit-store';
import { formatMicros, parseInstant } from './time';

export interface KeysetPosition {
  sortBy: AuditSortBy;
  /** Key of the last event returned. */
  after: { t: bigint; id: string };
  /** Inclusive occurred_at bounds, microseconds. */
  start?: bigint;
  end?: bigint;
  /** A timestamp-only cursor (`>dt:`): strictly after a time; filters travel as query parameters. */
  strictTime?: boolean;
}

interface CursorJson {
  v: 1;
  sort_by: AuditSortBy;
  occurred_at: string;
  id: string;
  start?: string;
  end?: string;
}

export function encodeCursor(c: KeysetPosition): string {
  const json: CursorJson = { v: 1, sort_by: c.sortBy, occurred_at: formatMicros(c.after.t), id: c.after.id };
  if (c.start !== undefined) json.start = formatMicros(c.start);
  if (c.end !== undefined) json.end = formatMicros(c.end);
  return Buffer.from(JSON.stringify(json), 'utf8').toString('base64url');
}

/** Sorts after every id: `after` a time with this id is strictly after that time, whatever the ids there. */
const AFTER_EVERY_ID = '\uffff';

/**
 * A cursor as Kandji's published example decodes: `>dt:2025-03-17 22:29:25.301092+00:00`, strictly after a time and
 * nothing else (no id, no filters). Events sharing that time and not yet returned are skipped by whoever follows it.
 */
export function encodeTimestampCursor(t: bigint): string {
  const iso = formatMicros(t).replace('T', ' ').replace(/Z$/, '+00:00');
  return Buffer.from(`>dt:${iso}`, 'utf8').toString('base64');
}

/** Returns undefined for anything that is not a cursor this simulator issued. */
export function decodeCursor(text: string): KeysetPosition | undefined {
  const timestamp = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64').toString('utf8') : '';
  if (timestamp.startsWith('>dt:')) {
    const t = parseInstant(timestamp.slice(4).replace(' ', 'T'));
    return t && !t.dateOnly
      ? { sortBy: 'occurred_at', after: { t: t.micros, id: AFTER_EVERY_ID }, strictTime: true }
      : undefined;
  }
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  if (o['v'] !== 1) return undefined;
  const sortBy = o['sort_by'];
  if (typeof sortBy !== 'string' || !(AUDIT_SORT_BY as readonly string[]).includes(sortBy)) return undefined;
  const id = o['id'];
  const occurredAt = o['occurred_at'];
  if (typeof id !== 'string' || id === '' || typeof occurredAt !== 'string') return undefined;
  const t = parseInstant(occurredAt);
  if (!t || t.dateOnly) return undefined;
  const bound = (key: string): bigint | undefined | null => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return null;
    const p = parseInstant(v);
    return p && !p.dateOnly ? p.micros : null;
  };
  const start = bound('start');
  const end = bound('end');
  if (start === null || end === null) return undefined;
  const cursor: KeysetPosition = { sortBy: sortBy as AuditSortBy, after: { t: t.micros, id } };
  if (start !== undefined) cursor.start = start;
  if (end !== undefined) cursor.end = end;
  return cursor;
}
