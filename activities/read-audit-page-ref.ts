/**
 * Activity: read one page of Kandji's audit log from the stream's cursor and keep its records in this worker.
 * Only a reference goes back to the workflow (page id, this worker's own task queue, counts, and the cursor the
 * page advances to), so records never ride through Temporal's history whatever their size; the ship activity,
 * routed to this worker's queue, sends them.
 */
import { Context } from '@temporalio/activity';
import { readAuditPages } from './audit-pages';
import { tenantDeps, type ActivityDeps } from './deps';
import { withTypedFailures } from './failures';
import { windowStart, type AuditCursor } from '../workflows/shared/audit-cursor';
import { digestTail, type DigestTail } from '../workflows/shared/overlap-digest';

export interface ReadAuditPageRefInput {
  tenant: string;
  cursor: AuditCursor;
  /**
   * The workflow rebuilds `next.digest` from `nextDigestTail` (0.6 on): the reference then carries only what changed
   * of the overlap digest. Absent (a workflow of an earlier version): the whole digest, as before.
   */
  acceptDigestTail?: boolean;
}

/** What the workflow learns of a page: small, whatever the records. */
export interface AuditPageRef {
  /** Id of the page in the worker's page store; null when the page had nothing to ship. */
  pageId: string | null;
  /** The task queue of the worker holding the page; null when no worker-specific queue is configured. */
  workerQueue: string | null;
  /** Fresh events in the page, and their bytes as received. */
  count: number;
  bytes: number;
  /** Kandji pages it took (as many as fill one Datadog batch): a re-read reads exactly as many. */
  pages: number;
  /** Events re-read in the overlap window and skipped as already shipped. */
  skipped: number;
  /** Fresh events older than the newest already shipped: they became visible late. */
  late: number;
  /** Events dated later than the reader's clock: shipped, the cursor does not follow them. */
  future?: number;
  /** Records set aside (no usable id or occurred_at), and the last of them. */
  invalid?: number;
  lastInvalid?: { identity: string; reason: string };
  /** Kandji `next` links refused (another host or path). */
  refusedLinks?: number;
  /** The cursor to commit once the page is shipped (hasMoreAuditPages says whether a backlog drains). */
  next: AuditCursor;
  /** Where the polls from `next` start re-reading (the overlap window): late events before it are the sweep's. */
  settled?: string;
  /**
   * When asked (acceptDigestTail) and it can: `next` comes without its digest, which is the read cursor's digest
   * with this tail (workflows/shared/overlap-digest.ts, applyDigestTail).
   */
  nextDigestTail?: DigestTail;
}

export function readAuditPageRefActivity(deps: ActivityDeps) {
  return async function readAuditPageRef(input: ReadAuditPageRefInput): Promise<AuditPageRef> {
    const ctx = Context.current();
    return withTypedFailures(() => readPageRef(deps, input, ctx), ctx.info.attempt);
  };
}

/**
 * Reads the page(s) from `input.cursor`, keeps what is fresh in this worker's page store and returns the reference.
 * Shared by readAuditPageRef and the idle wait (await-audit-page.ts).
 */
export async function readPageRef(
  deps: ActivityDeps,
  input: ReadAuditPageRefInput,
  ctx: Context,
): Promise<AuditPageRef> {
  const page = await readAuditPages(deps, input.tenant, input.cursor, ctx);
  // Unique (run ids are), and the same across attempts of this activity.
  const pageId =
    page.fresh.length > 0
      ? `${ctx.info.workflowExecution?.runId ?? ctx.info.workflowType}/${ctx.info.activityId}`
      : null;
  if (pageId && deps.pages)
    deps.pages.put(pageId, {
      records: page.fresh,
      bytes: page.bytes,
      meta: { next: page.next, pages: page.pages },
    });
  const tail = input.acceptDigestTail ? digestTail(input.cursor.digest, page.next.digest) : undefined;
  const { digest: _whole, ...nextWithoutDigest } = page.next;
  return {
    ...(tail ? { nextDigestTail: tail } : {}),
    pageId,
    workerQueue: pageId && deps.pages && deps.workerQueue ? deps.workerQueue : null,
    count: page.fresh.length,
    bytes: page.bytes,
    pages: page.pages,
    skipped: page.skipped,
    late: page.late,
    future: page.future,
    invalid: page.invalidCount,
    lastInvalid: page.invalid[page.invalid.length - 1],
    refusedLinks: page.refusedLinks,
    next: tail ? nextWithoutDigest : page.next,
    settled: windowStart(page.next, tenantDeps(deps, input.tenant).auditOverlapMs ?? 0),
  };
}
