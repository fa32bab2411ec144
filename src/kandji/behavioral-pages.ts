/**
 * Reading Kandji's behavioral detections (`GET /api/v1/behavioral-detections`, EDR) over a trailing window of days,
 * page by page, by limit/offset in a stable order (`sort_by=detection_date`, oldest first).
 *
 * Offsets shift when detections are added or removed while we page. So that a sweep neither misses nor repeats:
 * - pages overlap: each next page starts BEHAVIORAL_PAGE_OVERLAP rows before the end of the one before (repeats
 *   are de-duplicated by identity by the sweep);
 * - a page is accepted only if it holds one of the last rows of the page before (its anchors): then everything
 *   after that row, in the current order, is read. A page without any anchor (rows before it were removed, so the
 *   list moved back past the overlap) is read again from further back — by the overlap, or by as many rows as
 *   `total_count` shrank if that is more — until an anchor is found or the offset is 0;
 * - the sweep ends when it has read up to `total_count` as the last page gave it (a short page when Kandji gives no
 *   count): a page whose `total_count` moved is thus checked, and rows added at the end meanwhile are read too.
 * A detection inserted before the part already read (dated in the past) is not seen by this sweep: the next sweep
 * ships it, once.
 *
 * A tenant without EDR answers 403 or 404 (neither is documented): that is not an error to page anyone about. It is
 * raised as a `not_found` marked `unlicensed`: the stream shows `unavailable` with Kandji's answer, quietly.
 */
import { z } from 'zod';
import { RemoteError } from '../remote-errors';
import { parseListEnvelope } from './json-shape';
import { fingerprint64 } from '../streams/fingerprint64-set';
import { recordIdentity } from '../streams/record-identity';

export const BEHAVIORAL_PATH = '/api/v1/behavioral-detections';
/** Kandji's maximum (and default) `limit`. */
export const BEHAVIORAL_PAGE_SIZE = 1000;
/** Rows of the page before that each next page reads again. */
export const BEHAVIORAL_PAGE_OVERLAP = 50;
/** Default trailing window of the stream, in days (KANDJI_BEHAVIORAL_WINDOW_DAYS). */
export const BEHAVIORAL_WINDOW_DAYS = 7;

type Row = Record<string, unknown>;

/** Where a sweep of behavioral detections stands: small (heartbeated), the window fixed for the whole sweep. */
export interface BehavioralPosition {
  /** First day of the window (`detection_date_from`, YYYY-MM-DD, UTC). */
  from: string;
  offset: number;
  /**
   * The last rows of the page before (64-bit fingerprints of their identities, base 36: no Kandji content in a
   * heartbeat or in history): the next page must hold one of them.
   */
  anchors: string[];
  /** `total_count` of the page before; null before the first page (or when Kandji gives none). */
  total: number | null;
  /** Pages read again because the list had moved (for logs and tests). */
  rereads: number;
}

/** The position of a new sweep: offset 0 of the window of `windowDays` days up to today (UTC). */
export function initialBehavioralPosition(windowDays: number, nowMs: number): BehavioralPosition {
  const from = new Date(nowMs - windowDays * 86_400_000).toISOString().slice(0, 10);
  return { from, offset: 0, anchors: [], total: null, rereads: 0 };
}

export function behavioralRequestPath(at: BehavioralPosition, limit = BEHAVIORAL_PAGE_SIZE): string {
  const q = new URLSearchParams({
    limit: String(limit),
    offset: String(at.offset),
    sort_by: 'detection_date',
    detection_date_from: at.from,
  });
  return `${BEHAVIORAL_PATH}?${q.toString()}`;
}

const envelope = z.looseObject({
  results: z.array(z.record(z.string(), z.unknown())),
  total_count: z.number().int().nonnegative().nullable().optional(),
});

export function parseBehavioralPage(body: unknown): { rows: Row[]; total: number | null } {
  const parsed = parseListEnvelope(envelope, body, 'behavioral detections');
  return { rows: (body as { results: Row[] }).results, total: parsed.total_count ?? null };
}

/** A 403 or 404 of this endpoint: EDR is not licensed for the tenant (or the token may not read it). */
export function unlicensedError(err: RemoteError): RemoteError {
  return new RemoteError(
    'kandji',
    'not_found',
    `Kandji behavioral detections are not available to this tenant (EDR not licensed, or the token lacks the permission): ${err.message}`,
    { ...err.details, unlicensed: true },
    { cause: err },
  );
}

type JsonGetter = { getJson(path: string, signal?: AbortSignal, opts?: { keepAlive?: () => void }): Promise<unknown> };

/** Reads the page at `at` and says where the next one starts, and whether the window is read to its end. */
export async function readBehavioralPage(
  kandji: JsonGetter,
  at: BehavioralPosition,
  opts: { signal?: AbortSignal; keepAlive?: () => void; limit?: number } = {},
): Promise<{ rows: Row[]; next: BehavioralPosition; done: boolean }> {
  const limit = opts.limit ?? BEHAVIORAL_PAGE_SIZE;
  let body: unknown;
  try {
    body = await kandji.getJson(behavioralRequestPath(at, limit), opts.signal, opts);
  } catch (err) {
    const status = err instanceof RemoteError && err.service === 'kandji' ? err.details.status : undefined;
    if (status === 403 || status === 404) throw unlicensedError(err as RemoteError);
    throw err;
  }
  const page = parseBehavioralPage(body);
  return { rows: page.rows, ...nextPosition(at, page, limit) };
}

/** Where the sweep goes after reading `page` at `at` (pure: the paging rules of this file). */
export function nextPosition(
  at: BehavioralPosition,
  page: { rows: Row[]; total: number | null },
  limit: number,
): { next: BehavioralPosition; done: boolean } {
  const ids = page.rows.map((r) => fingerprint64(recordIdentity('behavioral-detections', r)).toString(36));
  const anchored = at.offset === 0 || at.anchors.length === 0 || ids.some((id) => at.anchors.includes(id));
  if (!anchored) {
    // The list moved back past the overlap: read again from further back.
    const shrank = at.total !== null && page.total !== null ? Math.max(0, at.total - page.total) : 0;
    const back = Math.max(BEHAVIORAL_PAGE_OVERLAP, shrank);
    return {
      next: { ...at, offset: Math.max(0, at.offset - back), total: page.total, rereads: at.rereads + 1 },
      done: false,
    };
  }
  const end = at.offset + page.rows.length;
  const done = page.rows.length === 0 || (page.total !== null ? end >= page.total : page.rows.length < limit);
  const overlap = Math.min(BEHAVIORAL_PAGE_OVERLAP, Math.floor(page.rows.length / 2));
  return {
    next: { ...at, offset: end - overlap, anchors: ids.slice(ids.length - overlap), total: page.total },
    done,
  };
}
