/**
 * Reading one page of Kandji's audit log from the stream's cursor: the request, the parse, and which events are
 * fresh. Shared by the fetch activity (which keeps the page in this worker) and the ship activity (which reads it
 * again when the page is gone).
 */
import type { Context } from '@temporalio/activity';
import { parseAuditPage, type AuditRecord } from '../src/kandji/audit-page';
import { toSameOriginPath } from '../src/kandji/links';
import { AUDIT_EVENTS_PATH, advanceAuditCursor, auditRequestPath, type AuditCursor } from '../workflows/audit-cursor';
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
}

/** `progress`: heartbeat details to keep while waiting (a ship attempt's progress must survive a slow read). */
export async function readAuditPage(deps: ActivityDeps, tenant: string, cursor: AuditCursor, ctx: Context, progress?: unknown): Promise<ReadAuditPage> {
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
