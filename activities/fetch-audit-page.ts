/** Activity: read one page of Kandji's audit log from the stream's cursor. */
import { Context } from '@temporalio/activity';
import { parseAuditPage, type AuditRecord } from '../src/kandji/audit-page';
import { toSameOriginPath } from '../src/kandji/links';
import { AUDIT_EVENTS_PATH, advanceAuditCursor, auditRequestPath, type AuditCursor } from '../workflows/audit-cursor';
import { tenantDeps, type ActivityDeps } from './deps';
import { withTypedFailures } from './failures';

export interface FetchAuditPageInput {
  tenant: string;
  cursor: AuditCursor;
}

export interface FetchedAuditPage {
  /** Events the cursor has not passed yet, exactly as Kandji returned them. */
  events: AuditRecord[];
  /** Events re-read in the overlap window and skipped as already shipped. */
  skipped: number;
  /** Fresh events older than the newest already shipped: they became visible late, and are shipped now. */
  late: number;
  /** The cursor to commit once `events` are shipped. `next.page === null` means caught up. */
  next: AuditCursor;
}

export function fetchAuditPageActivity(deps: ActivityDeps) {
  return async function fetchAuditPage(input: FetchAuditPageInput): Promise<FetchedAuditPage> {
    const { kandji, auditPageSize, auditOverlapMs = 0 } = tenantDeps(deps, input.tenant);
    return withTypedFailures(async () => {
      const path = auditRequestPath(input.cursor, auditPageSize, auditOverlapMs);
      const ctx = Context.current();
      const body = await kandji.getJson(path, ctx.cancellationSignal, { keepAlive: () => ctx.heartbeat() });
      const page = parseAuditPage(body);
      const nextPage = page.next ? toSameOriginPath(page.next, kandji.baseUrl, AUDIT_EVENTS_PATH) : null;
      const { fresh, skipped, late, next } = advanceAuditCursor(input.cursor, page.results, nextPage, auditOverlapMs);
      deps.logger.debug(
        { tenant: input.tenant, stream: 'audit', received: page.results.length, fresh: fresh.length, skipped, late, more: nextPage !== null },
        'fetched audit page',
      );
      return { events: fresh, skipped, late, next };
    }, Context.current().info.attempt);
  };
}
