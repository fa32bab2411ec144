/**
 * Activity: the late sweep of one past hour of Kandji's audit log. Reads every event of the hour, lists those the
 * stream never handled by subtracting the hour's ledger table (workflows/shared/late-ledger.ts), ships them, and returns
 * the table to add to the ledger. Only counts and that table go back to the workflow.
 *
 * When the difference is too large to list (a burst of late events in one hour), the whole hour is sent again
 * (Datadog may then hold some events twice: at least once rather than never), counted as `resent`, and the ledger
 * of the hour becomes what was read.
 *
 * Every attempt reads the hour again, so a retry may find another list than the one its predecessor heartbeated
 * progress on (an event turned up meanwhile): that progress holds only for its own list (src/datadog/shipper.ts), and
 * what is not provably shipped is shipped again. The delta is always that of what this attempt read and shipped.
 */
import { Context } from '@temporalio/activity';
import { activityLogger } from './activity-logger';
import { readAuditPage } from './audit-pages';
import type { ActivityDeps } from './deps';
import { withTypedFailures } from './failures';
import { heartbeatPulse } from './heartbeat-pulse';
import { activityShipOptions, shipRecords, type ShipRecordsResult } from './ship-records';
import type { ShipProgress } from '../src/datadog/shipper';
import type { AuditRecord } from '../src/kandji/audit-page';
import { hasMoreAuditPages, type AuditCursor } from '../workflows/shared/audit-cursor';
import {
  addKey,
  combineCells,
  decodeCells,
  differenceOf,
  emptyCells,
  encodeCells,
  hourEndKey,
  hourStartKey,
  idKey,
} from '../workflows/shared/late-ledger';
import { timestampKey } from '../workflows/shared/timestamps';

export interface SweepLateAuditHourInput {
  tenant: string;
  /** `YYYY-MM-DDTHH` (UTC). */
  hour: string;
  /** The ledger's start: events before it are not the sweep's (the stream started, or was moved, after them). */
  from?: string;
  /** The hour's ledger table: what the stream handled in it. */
  cells?: string;
}

export interface SweepLateAuditHourResult {
  hour: string;
  /** Events of the hour read, and Kandji pages it took. */
  read: number;
  pages: number;
  /** Late events found and shipped. */
  found: number;
  /** Events sent again because the difference was too large to list (0 normally). */
  resent: number;
  /** The table to add to the hour's ledger. */
  delta: string;
  shipment: ShipRecordsResult;
}

export function sweepLateAuditHourActivity(deps: ActivityDeps) {
  return async function sweepLateAuditHour(input: SweepLateAuditHourInput): Promise<SweepLateAuditHourResult> {
    const ctx = Context.current();
    const progress = ctx.info.heartbeatDetails as ShipProgress | undefined;
    const hourStart = hourStartKey(input.hour);
    const start = input.from && input.from > hourStart ? input.from : hourStart;
    const end = hourEndKey(input.hour);
    const { events, pages } = await withTypedFailures(
      () => readHour(deps, input.tenant, start, end, ctx, progress),
      ctx.info.attempt,
    );

    const read = emptyCells();
    for (const e of events) addKey(read, idKey(e.id));
    const handled = decodeCells(input.cells);
    const diff = differenceOf(read, handled);
    const lateKeys = new Set(diff.added);
    const toShip = diff.complete ? events.filter((e) => lateKeys.has(idKey(e.id))) : events;
    const log = activityLogger(deps, { tenant: input.tenant, stream: 'audit', hour: input.hour });
    if (!diff.complete)
      log.warn(
        { read: events.length, listed: diff.added.length },
        'too many late events in one hour to list: sending the whole hour again',
      );
    else if (toShip.length > 0)
      log.info(
        { found: toShip.length, read: events.length },
        'late audit events found by the late sweep: shipping them',
      );

    const shipment = await shipRecords(
      deps,
      { tenant: input.tenant, stream: 'audit', records: toShip },
      activityShipOptions(ctx, progress),
    );
    let delta = emptyCells();
    if (diff.complete) for (const e of toShip) addKey(delta, idKey(e.id));
    else delta = combineCells(read, handled, -1); // the hour's table becomes what was read
    return {
      hour: input.hour,
      read: events.length,
      pages,
      found: diff.complete ? toShip.length : 0,
      resent: diff.complete ? 0 : toShip.length,
      delta: encodeCells(delta),
      shipment,
    };
  };
}

/** Every readable event with `start` ≤ occurred_at < `end`, read in ascending time from `start` inclusive. */
export async function readHour(
  deps: ActivityDeps,
  tenant: string,
  start: string,
  end: string,
  ctx: Context,
  progress: unknown,
): Promise<{ events: AuditRecord[]; pages: number }> {
  // `until` filters at `end` inclusive (whether Kandji's end_date is inclusive is not documented): events at `end`
  // belong to the next hour and are dropped here.
  let cursor: AuditCursor = { since: start, from: start, until: end, page: null, more: true };
  const events: AuditRecord[] = [];
  let pages = 0;
  const pulse = heartbeatPulse(ctx, progress, deps.now);
  do {
    const page = await readAuditPage(deps, tenant, cursor, ctx, pulse, { quiet: true });
    pages += 1;
    for (const e of page.fresh) if (timestampKey(e.occurred_at) < end) events.push(e);
    cursor = page.next;
  } while (hasMoreAuditPages(cursor));
  return { events, pages };
}
