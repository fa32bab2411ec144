/**
 * Reading the two snapshot endpoints page by page, validated only as far as paging needs:
 * - detections: `after` cursor; `next` is a raw cursor on real tenants and a URL in the docs, so both are accepted
 *   (a URL must point at the configured origin); page size sent as both `size` and `limit`, since servers differ;
 *   never `cursor=`, which this endpoint ignores (it would return page 1 forever);
 * - threat details: limit/offset, oldest first, so threats detected while we page land at the end and do not
 *   shift the rows still to read;
 * - behavioral detections: limit/offset over a trailing window, with anchored overlapping pages (behavioral-pages.ts).
 */
import { z } from 'zod';
import type { SnapshotStreamName } from '../../workflows/shared/stream-status';
import { RemoteError, snippet } from '../remote-errors';
import {
  BEHAVIORAL_WINDOW_DAYS,
  initialBehavioralPosition,
  readBehavioralPage,
  type BehavioralPosition,
} from './behavioral-pages';
import { parseListEnvelope } from './json-shape';
import { toSameOriginPath } from './links';

export const DETECTIONS_PATH = '/api/v1/vulnerability-management/detections';
export const THREATS_PATH = '/api/v1/threat-details';
export const DETECTIONS_PAGE_SIZE = 300;
export const THREATS_PAGE_SIZE = 1000;

type Row = Record<string, unknown>;

const envelope = z.looseObject({
  results: z.array(z.record(z.string(), z.unknown())),
  next: z.string().nullable().optional(),
});

function parseEnvelope(body: unknown, what: string): { results: Row[]; next: string | null } {
  // The shape, never the content: the message of a bad page reaches workflow history and `status`.
  const parsed = parseListEnvelope(envelope, body, what);
  const original = body as { results: Row[] };
  return { results: original.results, next: parsed.next ?? null };
}

export function detectionsRequestPath(after: string | null, size = DETECTIONS_PAGE_SIZE): string {
  const q = new URLSearchParams({ size: String(size), limit: String(size) });
  if (after) q.set('after', after);
  return `${DETECTIONS_PATH}?${q.toString()}`;
}

/** The `after` value for the next detections page, from `next` as a raw cursor or as a URL; null at the end. */
export function detectionsNextAfter(next: string | null, baseUrl: string): string | null {
  if (!next) return null;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(next) && !next.startsWith('/')) return next;
  const path = toSameOriginPath(next, baseUrl, DETECTIONS_PATH);
  const after = new URL(path, baseUrl).searchParams.get('after');
  if (!after)
    throw new RemoteError(
      'kandji',
      'bad_response',
      `Kandji detections next link has no after= cursor: ${snippet(path, 200)}`,
    );
  return after;
}

export function parseDetectionsPage(body: unknown, baseUrl: string): { rows: Row[]; after: string | null } {
  const page = parseEnvelope(body, 'detections');
  return { rows: page.results, after: detectionsNextAfter(page.next, baseUrl) };
}

export function threatsRequestPath(offset: number, limit = THREATS_PAGE_SIZE): string {
  const q = new URLSearchParams({ limit: String(limit), offset: String(offset), sort_by: 'detection_date' });
  return `${THREATS_PATH}?${q.toString()}`;
}

/** Threat pages end at the first short page; `next` is not relied on (Kandji's examples never show one set). */
export function parseThreatsPage(body: unknown): { rows: Row[] } {
  const page = parseEnvelope(body, 'threat details');
  return { rows: page.results };
}

/** Rows re-read at each offset step, so a row deleted while paging cannot make us skip another. */
export const THREATS_PAGE_OVERLAP = 50;

/** A sweep longer than this many pages means the endpoint is not paging (e.g. it ignores our cursor). */
export const MAX_PAGES_PER_SWEEP = 20_000;

type JsonGetter = {
  getJson(path: string, signal?: AbortSignal, opts?: { keepAlive?: () => void }): Promise<unknown>;
  baseUrl: string;
};

/** Where a snapshot sweep stands: detections the `after` cursor, threats the offset, behavioral detections more. */
export type SnapshotPosition = string | number | null | BehavioralPosition;

/** Where a whole read of the list starts: detections the first page, threats offset 0, behavioral detections their window. */
export function firstSnapshotPosition(
  stream: SnapshotStreamName,
  windowDays: number | undefined,
  nowMs: number,
): SnapshotPosition {
  if (stream === 'behavioral-detections') return initialBehavioralPosition(windowDays ?? BEHAVIORAL_WINDOW_DAYS, nowMs);
  return stream === 'threats' ? 0 : null;
}

/**
 * Reads one page of a snapshot endpoint at `position` (detections: the `after` cursor, null first; threats: the
 * offset, 0 first; behavioral detections: initialBehavioralPosition first) and says where the next one starts and
 * whether this was the last. `pages` is how many the sweep has read before this one.
 */
export async function readSnapshotPage(
  kandji: JsonGetter,
  stream: SnapshotStreamName,
  position: SnapshotPosition,
  pages: number,
  opts: { signal?: AbortSignal; keepAlive?: () => void } = {},
): Promise<{ rows: Row[]; next: SnapshotPosition; done: boolean }> {
  if (pages >= MAX_PAGES_PER_SWEEP) {
    throw new RemoteError(
      'kandji',
      'bad_response',
      `Kandji ${stream} did not end after ${MAX_PAGES_PER_SWEEP} pages: the endpoint is not paging`,
    );
  }
  if (stream === 'behavioral-detections') return readBehavioralPage(kandji, position as BehavioralPosition, opts);
  if (stream === 'detections') {
    const page = parseDetectionsPage(
      await kandji.getJson(detectionsRequestPath(position as string | null), opts.signal, opts),
      kandji.baseUrl,
    );
    if (page.after !== null && page.after === position) {
      throw new RemoteError(
        'kandji',
        'bad_response',
        'Kandji detections returned the same next cursor again: the endpoint is not paging',
      );
    }
    return { rows: page.rows, next: page.after, done: page.after === null };
  }
  const offset = position as number;
  const page = parseThreatsPage(await kandji.getJson(threatsRequestPath(offset), opts.signal, opts));
  // Done at the first short page: `next` is not relied on (Kandji's examples never show one set).
  return {
    rows: page.rows,
    next: offset + Math.max(1, page.rows.length - THREATS_PAGE_OVERLAP),
    done: page.rows.length < THREATS_PAGE_SIZE,
  };
}
