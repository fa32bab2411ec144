/**
 * Reading Kandji's audit log from the stream's cursor: the requests, the parse, and which events are fresh. Shared by the fetch activity (which keeps the page in this worker) and the ship activity (which reads it
 * again when the page is gone).
 */
import type { Context } from '@temporalio/activity';
import { activityLogger } from './activity-logger';
import { tenantDeps, type ActivityDeps } from './deps';
import { heartbeatPulse, type Pulse } from './heartbeat-pulse';
import { MAX_BATCH_BYTES, MAX_ITEMS_PER_BATCH } from '../src/datadog/batches';
import { isBudgetWait } from '../src/kandji/attempt';
import { parseAuditPage, type AuditRecord, type InvalidAuditRecord } from '../src/kandji/audit-page';
import { toSameOriginPath } from '../src/kandji/links';
import { RemoteError } from '../src/remote-errors';
import {
  AUDIT_EVENTS_PATH,
  AUDIT_PAGE_LIMIT,
  advanceAuditCursor,
  auditRequestPath,
  hasMoreAuditPages,
  type AuditCursor,
} from '../workflows/shared/audit-cursor';

export interface ReadAuditPage {
  /** Events the cursor has not passed yet, exactly as Kandji returned them. */
  fresh: AuditRecord[];
  skipped: number;
  late: number;
  /** The cursor to commit once `fresh` is shipped. */
  next: AuditCursor;
  /** Bytes of the page as received. */
  bytes: number;
  /** Kandji pages read. */
  pages: number;
  /** Events dated later than the reader's clock (shipped; the cursor does not follow them). */
  future: number;
  /** Records set aside because they have no usable id or occurred_at (logged; the first few kept). */
  invalid: InvalidAuditRecord[];
  invalidCount: number;
  /** `next` links refused (another host or path): the stream reads on from its own cursor instead. */
  refusedLinks: number;
}

/**
 * Reads Kandji pages from `cursor` until they hold a full Datadog batch of fresh events (1,000, or 4.25 MB), the log
 * is caught up, or `maxPages` were read: one unit of work for the workflow, one request to Datadog. With `exactly`,
 * reads that many pages (or until caught up): a page read again must end where the first read would have.
 */
export async function readAuditPages(
  deps: ActivityDeps,
  tenant: string,
  cursor: AuditCursor,
  ctx: Context,
  opts: { exactly?: number; progress?: unknown } = {},
): Promise<ReadAuditPage> {
  const { auditPageSize = AUDIT_PAGE_LIMIT } = tenantDeps(deps, tenant);
  const maxPages = opts.exactly ?? Math.min(10, Math.ceil(MAX_ITEMS_PER_BATCH / auditPageSize));
  const out: ReadAuditPage = {
    fresh: [],
    skipped: 0,
    late: 0,
    next: cursor,
    bytes: 0,
    pages: 0,
    future: 0,
    invalid: [],
    invalidCount: 0,
    refusedLinks: 0,
  };
  const pulse = heartbeatPulse(ctx, opts.progress, deps.now);
  do {
    let page;
    try {
      page = await readAuditPage(deps, tenant, out.next, ctx, pulse);
    } catch (err) {
      // No budget for another page within this attempt: ship what was read (a re-read must read exactly as many).
      if (out.pages > 0 && opts.exactly === undefined && isBudgetWait(err)) break;
      throw err;
    }
    out.fresh.push(...page.fresh);
    out.skipped += page.skipped;
    out.late += page.late;
    out.bytes += page.bytes;
    out.future += page.future;
    out.invalidCount += page.invalid.length;
    out.invalid.push(...page.invalid.slice(0, Math.max(0, 5 - out.invalid.length)));
    out.refusedLinks += page.refusedLinks;
    out.next = page.next;
    out.pages += 1;
    if (opts.exactly === undefined && (out.fresh.length >= MAX_ITEMS_PER_BATCH || out.bytes >= MAX_BATCH_BYTES)) break;
  } while (out.pages < maxPages && hasMoreAuditPages(out.next));
  return out;
}

/**
 * Reads one Kandji page from `cursor`, heartbeating around the request and while it waits (`pulse`, one per activity:
 * it carries the details to keep). `quiet`: a re-read (the late sweep) does not log unreadable records again.
 */
export async function readAuditPage(
  deps: ActivityDeps,
  tenant: string,
  cursor: AuditCursor,
  ctx: Context,
  pulse: Pulse,
  opts: { quiet?: boolean } = {},
): Promise<Omit<ReadAuditPage, 'pages' | 'invalidCount'>> {
  const { kandji, auditPageSize, auditOverlapMs = 0 } = tenantDeps(deps, tenant);
  const path = auditRequestPath(cursor, auditPageSize, auditOverlapMs);
  pulse.check();
  const { body, bytes } = await kandji.getJsonSized(path, ctx.cancellationSignal, { keepAlive: pulse.beat });
  pulse.check();
  const page = parseAuditPage(body);
  const log = activityLogger(deps, { tenant, stream: 'audit' });
  if (!opts.quiet)
    for (const bad of page.invalid)
      log.error({ identity: bad.identity, reason: bad.reason }, 'Kandji audit record unreadable; dead-lettered');
  let nextPage: string | null = null;
  let refusedLinks = 0;
  if (page.next) {
    try {
      nextPage = toSameOriginPath(page.next, kandji.baseUrl, AUDIT_EVENTS_PATH);
    } catch (err) {
      if (!(err instanceof RemoteError && err.kind === 'unsafe_link')) throw err;
      // Never followed (the token only goes to the configured origin); the stream reads on from its own cursor.
      refusedLinks = 1;
      log.warn({ reason: err.message }, 'refused a Kandji next link; reading on from the cursor instead');
    }
  }
  const now = deps.now?.() ?? Date.now();
  const { fresh, skipped, late, future, next, stuck } = advanceAuditCursor(
    cursor,
    page.results,
    nextPage,
    auditOverlapMs,
    now,
    page.next !== null,
  );
  if (stuck)
    log.warn(
      { since: next.since },
      'Kandji returned the same page again and no new next link: waiting for the next poll',
    );
  if (future > 0) log.warn({ future }, 'audit events dated in the future: shipped, the cursor does not follow them');
  log.debug(
    { received: page.results.length, fresh: fresh.length, skipped, late, bytes, more: page.next !== null },
    'fetched audit page',
  );
  return { fresh, skipped, late, next, bytes, future, invalid: page.invalid, refusedLinks };
}
