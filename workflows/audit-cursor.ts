/**
 * The audit stream's cursor: where the stream stands in Kandji's audit log, and how it moves.
 * Pure code, shared by the workflow (which keeps the cursor) and the fetch activity (which applies it).
 *
 * Audit events are read in ascending `occurred_at`. Two things make a plain "newest timestamp" cursor lose or
 * repeat events:
 * - several events can share one `occurred_at`, also across a page boundary;
 * - an event can become visible in the API after events with a later `occurred_at` were already shipped (late).
 * So each fresh poll re-reads an overlap window before the newest shipped time (`start_date = since − overlap`,
 * inclusive), and the cursor keeps a bounded digest of what it shipped inside that window (overlap-digest.ts):
 * those are skipped, anything else in the window is a late or tied event and goes out.
 *
 * The digest stays small whatever the event rate:
 * - an event older than the worker's clock minus twice the overlap (and a margin for clock error) when it was
 *   read cannot turn up late any more within the overlap, so it is not remembered: `digestFrom` moves past it and
 *   the window never re-reads before that point (a backlog drain keeps the digest empty);
 * - at most MAX_DIGEST_ENTRIES entries are kept; past that the oldest seconds go and the window shrinks to what
 *   the digest still covers.
 * While a backlog drains, `page` holds the path and query of Kandji's `next` page (never its host: the token only
 * ever goes to the configured origin).
 */
import { decodeDigest, encodeDigest, idHash, pruneDigest, type DigestEntry } from './overlap-digest';
import { keyToMillis, millisToKey, timestampKey } from './timestamps';

export interface AuditCursor {
  /** Normalised `occurred_at` key (see timestamps.ts) of the newest shipped event, or the start position. */
  since: string;
  /** Where the stream started: events before it are never shipped, late or not. */
  from?: string;
  /** Entries (overlap-digest.ts) of the events shipped with `occurred_at` at or after `digestFrom`. */
  digest?: string;
  /** Every event shipped at or after this key is in `digest`; a re-read never starts before it. */
  digestFrom?: string;
  /** Legacy (0.2.0): `"<key> <id>"` of events shipped inside the overlap window. Read, never written. */
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
/** Allowance for a worker clock that runs ahead when deciding that an event is too old to turn up late. */
export const CLOCK_MARGIN_MS = 10 * 60_000;

export function initialAuditCursor(sinceIso: string, untilIso?: string): AuditCursor {
  const since = timestampKey(sinceIso);
  const cursor: AuditCursor = { since, from: since, page: null };
  if (untilIso) cursor.until = timestampKey(untilIso);
  return cursor;
}

const maxKey = (...keys: (string | undefined)[]): string => keys.reduce<string>((m, k) => (k !== undefined && k > m ? k : m), '');

/** The smallest key after `key` (one microsecond later). */
export function keyAfter(key: string): string {
  const micros = Number(key.slice(20, 26));
  if (micros < 999_999) return `${key.slice(0, 20)}${String(micros + 1).padStart(6, '0')}Z`;
  return millisToKey(Math.floor(keyToMillis(key) / 1000) * 1000 + 1000);
}

/** Start of the window re-read on each fresh poll. */
function windowStart(cursor: AuditCursor, overlapMs: number): string {
  const start = overlapMs > 0 ? millisToKey(keyToMillis(cursor.since) - overlapMs) : cursor.since;
  return maxKey(start, cursor.from, cursor.digestFrom);
}

/** Path and query of the request that reads the next page from this cursor. */
export function auditRequestPath(cursor: AuditCursor, limit = AUDIT_PAGE_LIMIT, overlapMs = 0): string {
  if (cursor.page) return cursor.page;
  const q = new URLSearchParams({ limit: String(limit), sort_by: 'occurred_at', start_date: windowStart(cursor, overlapMs) });
  if (cursor.until) q.set('end_date', cursor.until);
  return `${AUDIT_EVENTS_PATH}?${q.toString()}`;
}

const secondOf = (key: string) => Math.floor(keyToMillis(key) / 1000);

/** The digest's entries, with the legacy id lists of 0.1.0 and 0.2.0 cursors folded in. */
function digestEntries(cursor: AuditCursor): DigestEntry[] {
  const entries = decodeDigest(cursor.digest);
  for (const e of cursor.recent ?? []) {
    const space = e.indexOf(' ');
    entries.push({ sec: secondOf(e.slice(0, space)), hash: idHash(e.slice(space + 1)) });
  }
  for (const id of cursor.shippedAtSince ?? []) entries.push({ sec: secondOf(cursor.since), hash: idHash(id) });
  return entries;
}

/**
 * Splits a fetched page into the events to ship and the cursor to commit once they are shipped.
 * Events already shipped, events before the window (or before the start), and repeats of one id inside the page
 * are dropped. `late` counts fresh events older than the newest one shipped before this page. `nowMs` is the
 * reader's clock: events older than it by twice the overlap (and CLOCK_MARGIN_MS) are not remembered in the
 * digest; without it every shipped event in the window is.
 */
export function advanceAuditCursor<T extends AuditEventKey>(
  cursor: AuditCursor,
  events: readonly T[],
  nextPage: string | null,
  overlapMs = 0,
  nowMs?: number,
): { fresh: T[]; skipped: number; late: number; next: AuditCursor } {
  const entries = digestEntries(cursor);
  const known = new Set(entries.map((e) => e.hash));
  const lowest = windowStart(cursor, overlapMs);
  const tooOldToBeLate = nowMs === undefined ? '' : millisToKey(nowMs - 2 * overlapMs - CLOCK_MARGIN_MS);
  const keys = events.map((e) => timestampKey(e.occurred_at));
  const pageNewest = maxKey(...keys);
  const fresh: T[] = [];
  let since = cursor.since;
  let digestFrom = cursor.digestFrom;
  let late = 0;
  events.forEach((event, i) => {
    const key = keys[i]!;
    const hash = idHash(event.id);
    if (known.has(hash) || key < lowest || (cursor.until !== undefined && key > cursor.until)) return;
    if (key < cursor.since) late += 1;
    known.add(hash);
    fresh.push(event);
    // The newest time of the page is always remembered: its ties may continue on the next page.
    if (key >= tooOldToBeLate || key === pageNewest) entries.push({ sec: secondOf(key), hash });
    else digestFrom = maxKey(digestFrom, keyAfter(key));
    if (key > since) since = key;
  });
  const next: AuditCursor = { since, page: nextPage };
  if (cursor.from) next.from = cursor.from;
  if (cursor.until) next.until = cursor.until;
  if (digestFrom) next.digestFrom = digestFrom;
  const pruned = pruneDigest(entries, secondOf(windowStart(next, overlapMs)));
  if (pruned.coveredFromSec !== undefined) next.digestFrom = maxKey(next.digestFrom, millisToKey(pruned.coveredFromSec * 1000));
  if (pruned.entries.length > 0) next.digest = encodeDigest(pruned.entries);
  return { fresh, skipped: events.length - fresh.length, late, next };
}

/** Whether two cursors stand at the same place (the digest aside). */
export function samePosition(a: AuditCursor, b: AuditCursor): boolean {
  return a.since === b.since && a.page === b.page && (a.digestFrom ?? '') === (b.digestFrom ?? '');
}
