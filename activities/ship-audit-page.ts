/**
 * Activity: ship one audit page to Datadog. Normally it runs on the worker that fetched the page (routed to that
 * worker's own task queue) and takes the records from its page store. When the page is not there (that worker
 * died or restarted, or dropped the page to stay within its memory bound) it reads the page again from Kandji with
 * the same cursor, keeps it (so its own retries do not read it again), ships what it read, and returns the cursor
 * of what it actually shipped: that is what the workflow commits, and the ledger entries are those of that page.
 *
 * A page read again may differ from the page an earlier attempt shipped part of (an event turned up late, or is
 * gone): the earlier attempt's heartbeat holds only for the list it was made on (src/datadog/shipper.ts), so what
 * is not provably shipped is shipped again — a duplicate at worst, never a loss.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { activityLogger } from './activity-logger';
import { readAuditPages } from './audit-pages';
import type { ActivityDeps } from './deps';
import { withTypedFailures } from './failures';
import { activityShipOptions, shipRecords, type ShipRecordsResult } from './ship-records';
import type { AuditRecord } from '../src/kandji/audit-page';
import type { AuditCursor } from '../workflows/shared/audit-cursor';
import { FailureType } from '../workflows/shared/failure-types';
import { ledgerDelta, type LedgerDelta } from '../workflows/shared/late-ledger';
import { timestampKey } from '../workflows/shared/timestamps';

export interface ShipAuditPageInput {
  tenant: string;
  pageId: string;
  /** The cursor the page was read from: a page that is gone is read again from it. */
  cursor: AuditCursor;
  /** How many Kandji pages it took (absent: 1). */
  pages?: number;
  /** Where the stream's late-event ledger starts: events before it are left out of `ledger`. */
  lateFrom?: string;
  /**
   * `cursor` comes without its overlap digest (0.6 on, for the ship on the worker holding the page: it needs the
   * cursor only to read a page it lost, and the digest is most of a busy stream's history). A page not in this
   * worker then fails PageNotHeld, and the workflow ships it from the shared queue with the whole cursor.
   */
  digestElided?: boolean;
}

export interface ShipAuditPageResult extends ShipRecordsResult {
  /** When the page shipped was read again (by this attempt or an earlier one): where it ends (else the fetch's `next`). */
  next?: AuditCursor;
  /** Whether the page had to be read again from Kandji (by this attempt or an earlier one on this worker). */
  reread: boolean;
  /** Fresh events in what was shipped (differs from the fetch's count only after a re-read). */
  count: number;
  /** The events this page handled, for the stream's late-event ledger (hours within Datadog's window only). */
  ledger?: LedgerDelta;
}

export function shipAuditPageActivity(deps: ActivityDeps) {
  return async function shipAuditPage(input: ShipAuditPageInput): Promise<ShipAuditPageResult> {
    const ctx = Context.current();
    let page = deps.pages?.get(input.pageId);
    let reread = (page?.meta as { reread?: boolean } | undefined)?.reread === true;
    if (!page && input.digestElided)
      throw ApplicationFailure.create({
        type: FailureType.PageNotHeld,
        message: `page ${input.pageId} is not held by this worker; it is read again with the whole cursor`,
        nonRetryable: true,
        category: ApplicationFailureCategory.BENIGN,
      });
    if (!page) {
      const read = await withTypedFailures(
        () =>
          readAuditPages(deps, input.tenant, input.cursor, ctx, {
            exactly: input.pages ?? 1,
            progress: ctx.info.heartbeatDetails,
          }),
        ctx.info.attempt,
      );
      reread = true;
      page = { records: read.fresh, bytes: read.bytes, meta: { next: read.next, reread }, storedAt: Date.now() };
      deps.pages?.put(input.pageId, page);
      activityLogger(deps, { tenant: input.tenant, stream: 'audit' }).info(
        { pageId: input.pageId, count: read.fresh.length },
        'page was not in this worker: read it again from Kandji',
      );
    }
    const records = page.records as AuditRecord[];
    const { next } = page.meta as { next: AuditCursor };
    const result = await shipRecords(
      deps,
      { tenant: input.tenant, stream: 'audit', records },
      activityShipOptions(ctx),
    );
    deps.pages?.delete(input.pageId);
    const ledger = ledgerDelta(
      records.map((r) => ({ id: r.id, key: timestampKey(r.occurred_at) })),
      deps.now?.() ?? Date.now(),
      input.lateFrom,
    );
    // The end of the page shipped whenever it is not the fetch's (that one the workflow has: no cursor twice in
    // history): also for a retry served from the copy an earlier attempt read again.
    return { ...result, ...(reread ? { next } : {}), reread, count: records.length, ledger };
  };
}
