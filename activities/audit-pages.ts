/**
 * Reading Kandji's audit log from the stream's cursor: the requests, the parse, and which events are fresh. Shared by the fetch activity (which keeps the page in this worker) and the ship activity (which reads it
 * again when the page is gone).
 */
import type { Context } from '@temporalio/activity';
import { parseAuditPage, type AuditRecord } from '../src/kandji/audit-page';
import { toSameOriginPath } from '../src/kandji/links';
import { MAX_BATCH_BYTES, MAX_ITEMS_PER_BATCH } from '../src/datadog/batches';
import { AUDIT_EVENTS_PATH, AUDIT_PAGE_LIMIT, advanceAuditCursor, auditRequestPath, type AuditCursor } from '../workflows/audit-cursor';
import { tenantDeps, type ActivityDeps } from './deps';

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
  const out: ReadAuditPage = { fresh: [], skipped: 0, late: 0, next: cursor, bytes: 0, pages: 0 };
  do {
    const page = await readAuditPage(deps, tenant, out.next, ctx, opts.progress);
    out.fresh.push(...page.fresh);
    out.skipped += page.skipped;
    out.late += page.late;
    out.bytes += page.bytes;
    out.next = page.next;
    out.pages += 1;
    if (opts.exactly === undefined && (out.fresh.length >= MAX_ITEMS_PER_BATCH || out.bytes >= MAX_BATCH_BYTES)) break;
  } while (out.pages < maxPages && out.next.page !== null);
  return out;
}

/** `progress`: heartbeat details to keep while waiting (a ship attempt's progress must survive a slow read). */
async function readAuditPage(
  deps: ActivityDeps,
  tenant: string,
  cursor: AuditCursor,
  ctx: Context,
  progress?: unknown,
): Promise<Omit<ReadAuditPage, 'pages'>> {
  const { kandji, auditPageSize, auditOverlapMs = 0 } = tenantDeps(deps, tenant);
  const path = auditRequestPath(cursor, auditPageSize, auditOverlapMs);
  const { body, bytes } = await kandji.getJsonSized(path, ctx.cancellationSignal, { keepAlive: () => ctx.heartbeat(progress) });
  const page = parseAuditPage(body);
  const nextPage = page.next ? toSameOriginPath(page.next, kandji.baseUrl, AUDIT_EVENTS_PATH) : null;
  const now = deps.now?.() ?? Date.now();
  const { fresh, skipped, late, next } = advanceAuditCursor(cursor, page.results, nextPage, auditOverlapMs, now);
  deps.logger.debug(
    { tenant, stream: 'audit', received: page.results.length, fresh: fresh.length, skipped, late, bytes, more: nextPage !== null },
    'fetched audit page',
  );
  return { fresh, skipped, late, next, bytes };
}
