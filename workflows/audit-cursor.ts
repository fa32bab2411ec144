/**
 * The audit stream's cursor: where the stream stands in Kandji's audit log, and how it moves.
 * Pure code, shared by the workflow (which keeps the cursor) and the fetch activity (which applies it).
 *
 * Audit events are read in ascending `occurred_at`. Two things make a plain "newest timestamp" cursor lose or
 * repeat events:
 * - several events can share one `occurred_at`, also across a page boundary;
 * - an event can become visible in the API after events with a later `occurred_at` were already shipped (late).
 * So each fresh poll re-reads an overlap window before the newest shipped time (`start_date = since − overlap`,
 * inclusive), and the cursor remembers the ids it shipped inside that window: those are skipped, anything else in
 * the window is a late or tied event and goes out. While a backlog drains, `page` holds the path and query of
 * Kandji's `next` page (never its host: the token only ever goes to the configured origin).
 */
import { keyToMillis, millisToKey, timestampKey } from './timestamps';

export interface AuditCursor {
  /** Normalised `occurred_at` key (see timestamps.ts) of the newest shipped event, or the start position. */
  since: string;
  /** Where the stream started: events before it are never shipped, late or not. */
  from?: string;
  /** `"<key> <id>"` of events shipped with `occurred_at` inside the overlap window before `since`, sorted. */
  recent?: string[];
  /** Legacy (0.1.0): ids shipped at exactly `since`. Read, never written. */
  shippedAtSince?: string[];
  /** Path and query of Kandji's next page while a backlog drains; null when caught up. */
  page: string | null;
  /** Backfills only: the end of the window (inclusive); nothing after it is shipped. */
  until?: string;
}

/** The fields the cursor needs of an audit event; everything else passes through untouched. */
export interface AuditEventKey {
  id: string;
  occurred_at: string;
}

export const AUDIT_EVENTS_PATH = '/api/v1/audit/events';
export const AUDIT_PAGE_LIMIT = 500;

export function initialAuditCursor(sinceIso: string, untilIso?: string): AuditCursor {
  const since = timestampKey(sinceIso);
  const cursor: AuditCursor = { since, from: since, recent: [], page: null };
  if (untilIso) cursor.until = timestampKey(untilIso);
  return cursor;
}

/** Start of the window re-read on each fresh poll. */
function windowStart(cursor: AuditCursor, overlapMs: number): string {
  const start = overlapMs > 0 ? millisToKey(keyToMillis(cursor.since) - overlapMs) : cursor.since;
  return cursor.from && cursor.from > start ? cursor.from : start;
}

/** Path and query of the request that reads the next page from this cursor. */
export function auditRequestPath(cursor: AuditCursor, limit = AUDIT_PAGE_LIMIT, overlapMs = 0): string {
  if (cursor.page) return cursor.page;
  const q = new URLSearchParams({ limit: String(limit), sort_by: 'occurred_at', start_date: windowStart(cursor, overlapMs) });
  if (cursor.until) q.set('end_date', cursor.until);
  return `${AUDIT_EVENTS_PATH}?${q.toString()}`;
}

/** Ids already shipped, from `recent` (and the legacy `shippedAtSince`). */
function shippedIds(cursor: AuditCursor): Set<string> {
  const ids = new Set<string>(cursor.shippedAtSince ?? []);
  for (const entry of cursor.recent ?? []) ids.add(entry.slice(entry.indexOf(' ') + 1));
  return ids;
}

/**
 * Splits a fetched page into the events to ship and the cursor to commit once they are shipped.
 * Events already shipped, events before the window (or before the start), and repeats of one id inside the page
 * are dropped. `late` counts fresh events older than the newest one shipped before this page.
 */
export function advanceAuditCursor<T extends AuditEventKey>(
  cursor: AuditCursor,
  events: readonly T[],
  nextPage: string | null,
  overlapMs = 0,
): { fresh: T[]; skipped: number; late: number; next: AuditCursor } {
  const shipped = shippedIds(cursor);
  const lowest = windowStart(cursor, overlapMs);
  const fresh: T[] = [];
  const entries = new Set(cursor.recent ?? []);
  for (const id of cursor.shippedAtSince ?? []) entries.add(`${cursor.since} ${id}`);
  let since = cursor.since;
  let late = 0;
  for (const event of events) {
    const key = timestampKey(event.occurred_at);
    if (shipped.has(event.id) || key < lowest || (cursor.until !== undefined && key > cursor.until)) continue;
    if (key < cursor.since) late += 1;
    shipped.add(event.id);
    fresh.push(event);
    entries.add(`${key} ${event.id}`);
    if (key > since) since = key;
  }
  const keepFrom = overlapMs > 0 ? millisToKey(keyToMillis(since) - overlapMs) : since;
  const recent = [...entries].filter((e) => e.slice(0, e.indexOf(' ')) >= keepFrom).sort();
  const next: AuditCursor = { since, recent, page: nextPage };
  if (cursor.from) next.from = cursor.from;
  if (cursor.until) next.until = cursor.until;
  return { fresh, skipped: events.length - fresh.length, late, next };
}
