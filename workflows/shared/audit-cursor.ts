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
import { decodeDigest, encodeDigest, idHash, pruneDigest } from './overlap-digest';
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
  /**
   * Path and query of Kandji's `next` page, kept only when a whole page shared one time (reading from `since`
   * again would return that same page); null otherwise. Kandji's `next` may be a bare timestamp (strictly after the
   * last event's time), so it is never relied on otherwise.
   */
  page: string | null;
  /** More events wait after `since` (the last page had a next link): read on at once, from `since` inclusive. */
  more?: boolean;
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
/**
 * An event dated later than the reader's clock plus this is shipped but never moves the cursor: one event dated in
 * the future (a device clock set to 2030) must not hide every event after it.
 */
export const FUTURE_SKEW_MS = 15 * 60_000;

export function initialAuditCursor(sinceIso: string, untilIso?: string): AuditCursor {
  const since = timestampKey(sinceIso);
  const cursor: AuditCursor = { since, from: since, page: null };
  if (untilIso) cursor.until = timestampKey(untilIso);
  return cursor;
}

const maxKey = (...keys: (string | undefined)[]): string =>
  keys.reduce<string>((m, k) => (k !== undefined && k > m ? k : m), '');

/** The smallest key after `key` (one microsecond later). */
export function keyAfter(key: string): string {
  const micros = Number(key.slice(20, 26));
  if (micros < 999_999) return `${key.slice(0, 20)}${String(micros + 1).padStart(6, '0')}Z`;
  return millisToKey(Math.floor(keyToMillis(key) / 1000) * 1000 + 1000);
}

/** Start of the window re-read on each fresh poll: late events before it are left to the late sweep (late-ledger.ts). */
export function windowStart(cursor: AuditCursor, overlapMs: number): string {
  const start = overlapMs > 0 ? millisToKey(keyToMillis(cursor.since) - overlapMs) : cursor.since;
  return maxKey(start, cursor.from, cursor.digestFrom);
}

/** Whether a backlog is draining (read on at once) rather than caught up (wait for the next poll). */
export function hasMoreAuditPages(cursor: AuditCursor): boolean {
  return cursor.page !== null || cursor.more === true;
}

/**
 * Path and query of the request that reads the next page from this cursor: while a backlog drains, from the newest
 * shipped time inclusive (its ties are in the digest); on a fresh poll, from the start of the overlap window.
 */
export function auditRequestPath(cursor: AuditCursor, limit = AUDIT_PAGE_LIMIT, overlapMs = 0): string {
  if (cursor.page) return cursor.page;
  const start = cursor.more ? maxKey(cursor.since, cursor.from) : windowStart(cursor, overlapMs);
  const q = new URLSearchParams({ limit: String(limit), sort_by: 'occurred_at', start_date: start });
  if (cursor.until) q.set('end_date', cursor.until);
  return `${AUDIT_EVENTS_PATH}?${q.toString()}`;
}

const secondOf = (key: string) => Math.floor(keyToMillis(key) / 1000);

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
  /** Whether Kandji has more after this page (default: it gave a next link; a refused link still means more). */
  more = nextPage !== null,
): { fresh: T[]; skipped: number; late: number; future: number; next: AuditCursor; stuck: boolean } {
  const entries = decodeDigest(cursor.digest);
  const known = new Set(entries.map((e) => e.hash));
  const lowest = windowStart(cursor, overlapMs);
  const tooOldToBeLate = nowMs === undefined ? '' : millisToKey(nowMs - 2 * overlapMs - CLOCK_MARGIN_MS);
  const keys = events.map((e) => timestampKey(e.occurred_at));
  const pageNewest = maxKey(...keys);
  const ceiling = nowMs === undefined ? undefined : millisToKey(nowMs + FUTURE_SKEW_MS);
  const fresh: T[] = [];
  let since = cursor.since;
  let digestFrom = cursor.digestFrom;
  let late = 0;
  let future = 0;
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
    // An event dated in the future (a device clock set to 2030) is shipped, but never moves the cursor past now.
    if (ceiling !== undefined && key > ceiling) future += 1;
    else if (key > since) since = key;
  });
  // Reading on from `since` again returns this same page when it moved nothing (a whole page of ties at `since`, of
  // events already shipped, or of records we cannot read): only then is Kandji's own next link followed — unless it
  // is the link that brought this page (a link that repeats would loop forever).
  const stuck = more && since === cursor.since && fresh.length === 0;
  const follow = stuck && nextPage !== null && nextPage !== cursor.page ? nextPage : null;
  const next: AuditCursor = { since, page: follow };
  if (more && (!stuck || follow !== null)) next.more = true;
  if (cursor.from) next.from = cursor.from;
  if (cursor.until) next.until = cursor.until;
  if (digestFrom) next.digestFrom = digestFrom;
  const pruned = pruneDigest(entries, secondOf(windowStart(next, overlapMs)));
  if (pruned.coveredFromSec !== undefined)
    next.digestFrom = maxKey(next.digestFrom, millisToKey(pruned.coveredFromSec * 1000));
  if (pruned.entries.length > 0) next.digest = encodeDigest(pruned.entries);
  return { fresh, skipped: events.length - fresh.length, late, future, next, stuck: stuck && follow === null };
}

/** Whether two cursors stand at the same place (the digest aside). */
export function samePosition(a: AuditCursor, b: AuditCursor): boolean {
  return (
    a.since === b.since && a.page === b.page && !!a.more === !!b.more && (a.digestFrom ?? '') === (b.digestFrom ?? '')
  );
}
