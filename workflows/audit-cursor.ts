/**
 * The audit stream's cursor: where the stream stands in Kandji's audit log, and how it moves.
 * Pure code, shared by the workflow (which keeps the cursor) and the fetch activity (which applies it).
 *
 * Audit events are read in ascending `occurred_at`. Several events can share one `occurred_at`, also across a page
 * boundary, so the position is the newest shipped timestamp plus the ids already shipped at exactly that timestamp:
 * re-reading from `start_date = since` (inclusive) returns those ids again and they are skipped, while an event at
 * the same timestamp that was not shipped yet still goes out. While a backlog drains, `page` holds the path and query
 * of Kandji's `next` page (never its host: the token only ever goes to the configured origin).
 */
import { timestampKey } from './timestamps';

export interface AuditCursor {
  /** Normalised `occurred_at` key (see timestamps.ts) of the newest shipped event, or the start position. */
  since: string;
  /** Ids of events already shipped whose `occurred_at` equals `since`. */
  shippedAtSince: string[];
  /** Path and query of Kandji's next page while a backlog drains; null when caught up. */
  page: string | null;
}

/** The fields the cursor needs of an audit event; everything else passes through untouched. */
export interface AuditEventKey {
  id: string;
  occurred_at: string;
}

export const AUDIT_EVENTS_PATH = '/api/v1/audit/events';
export const AUDIT_PAGE_LIMIT = 500;

export function initialAuditCursor(sinceIso: string): AuditCursor {
  return { since: timestampKey(sinceIso), shippedAtSince: [], page: null };
}

/** Path and query of the request that reads the next page from this cursor. */
export function auditRequestPath(cursor: AuditCursor, limit = AUDIT_PAGE_LIMIT): string {
  if (cursor.page) return cursor.page;
  const q = new URLSearchParams({ limit: String(limit), sort_by: 'occurred_at', start_date: cursor.since });
  return `${AUDIT_EVENTS_PATH}?${q.toString()}`;
}

/** True if the event has not been shipped from this cursor's point of view. */
function isNew(cursor: AuditCursor, shippedAtSince: ReadonlySet<string>, key: string, id: string): boolean {
  if (key > cursor.since) return true;
  return key === cursor.since && !shippedAtSince.has(id);
}

/**
 * Splits a fetched page into the events to ship and the cursor to commit once they are shipped.
 * Events the cursor has already passed, and repeats of one id inside the page, are dropped.
 */
export function advanceAuditCursor<T extends AuditEventKey>(
  cursor: AuditCursor,
  events: readonly T[],
  nextPage: string | null,
): { fresh: T[]; skipped: number; next: AuditCursor } {
  const shipped = new Set(cursor.shippedAtSince);
  const seen = new Set<string>();
  const fresh: T[] = [];
  let since = cursor.since;
  let atSince = new Set(cursor.shippedAtSince);
  for (const event of events) {
    const key = timestampKey(event.occurred_at);
    if (seen.has(event.id) || !isNew(cursor, shipped, key, event.id)) continue;
    seen.add(event.id);
    fresh.push(event);
    if (key > since) {
      since = key;
      atSince = new Set();
    }
    if (key === since) atSince.add(event.id);
  }
  return {
    fresh,
    skipped: events.length - fresh.length,
    next: { since, shippedAtSince: [...atSince].sort(), page: nextPage },
  };
}
