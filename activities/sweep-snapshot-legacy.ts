/**
 * 0.2 activity, kept only for workflow runs started before 0.3 (their state is one payload of fingerprints, which
 * cannot hold more than about 200,000 rows); such runs move to sweepSnapshotState at their next continue-as-new.
 *
 * Activity: one sweep of a snapshot endpoint (detections or threat details). Kandji returns these as current-state
 * lists, so the stream ships a row when it first appears (a detection that disappears and comes back is new again;
 * a threat is shipped again when its status changes). Rows travel straight from Kandji to Datadog inside this
 * activity; only the compact fingerprint set of what was seen goes back to the workflow. Progress is heartbeated
 * after each page, so a retried sweep resumes where it stopped.
 */
import { Context } from '@temporalio/activity';
import { activityLogger } from './activity-logger';
import { tenantDeps, type ActivityDeps } from './deps';
import { withTypedFailures } from './failures';
import { shipRecords, type ShipBatchResult } from './ship-records';
import { readSnapshotPage } from '../src/kandji/snapshot-pages';
import { FingerprintSet, fingerprint } from '../src/streams/fingerprints';
import { versionKey } from '../src/streams/record-identity';

export interface SweepSnapshotInput {
  tenant: string;
  stream: 'detections' | 'threats';
  /** Fingerprints of what the previous complete sweep saw; '' before the first sweep. */
  seen: string;
}

export interface SweepSnapshotResult extends ShipBatchResult {
  /** Fingerprints of everything this sweep saw. */
  seen: string;
  /** Rows read. */
  rows: number;
  /** Rows shipped because they were new (or, for threats, changed status). */
  fresh: number;
  /** Rows of the previous sweep that were not seen this time. */
  gone: number;
  /** Rows (threats: row versions) known after this sweep. */
  known: number;
  pages: number;
}

interface SweepProgress {
  /** detections: the `after` cursor of the next page; threats: the next offset. */
  position: string | number | null;
  seen: string;
  rows: number;
  fresh: number;
  pages: number;
  ship: Omit<ShipBatchResult, 'stale'> & { stale: number };
  done: boolean;
}

export function sweepSnapshotActivity(deps: ActivityDeps) {
  return async function sweepSnapshot(input: SweepSnapshotInput): Promise<SweepSnapshotResult> {
    const { kandji } = tenantDeps(deps, input.tenant);
    const ctx = Context.current();
    const previous = FingerprintSet.decode(input.seen);
    const resumed = ctx.info.heartbeatDetails as SweepProgress | undefined;
    const current = resumed ? FingerprintSet.decode(resumed.seen) : new FingerprintSet();
    const p: SweepProgress = resumed ?? {
      position: input.stream === 'threats' ? 0 : null,
      seen: '',
      rows: 0,
      fresh: 0,
      pages: 0,
      ship: { shipped: 0, batches: 0, deadLetters: [], deadLettered: 0, trimmed: 0, stale: 0 },
      done: false,
    };
    let stalePolicy: ShipBatchResult['stale']['policy'] = deps.stalePolicy ?? 'ship';

    /** Ships the rows of one page not seen before; marks every row of the page as seen. */
    const take = async (rows: Record<string, unknown>[]) => {
      const fresh: Record<string, unknown>[] = [];
      for (const row of rows) {
        const fp = fingerprint(versionKey(input.stream, row));
        if (current.has(fp)) continue; // re-read (threat page overlap) or a repeat inside the sweep
        current.add(fp);
        if (!previous.has(fp)) fresh.push(row);
      }
      p.rows += rows.length;
      if (fresh.length > 0) {
        const shipped = await shipRecords(
          deps,
          { tenant: input.tenant, stream: input.stream, records: fresh },
          { signal: ctx.cancellationSignal },
        );
        p.fresh += fresh.length;
        p.ship.shipped += shipped.shipped;
        p.ship.batches += shipped.batches;
        p.ship.deadLetters.push(...shipped.deadLetters);
        p.ship.deadLettered += shipped.deadLettered;
        p.ship.trimmed += shipped.trimmed;
        p.ship.stale += shipped.stale.count;
        stalePolicy = shipped.stale.policy;
      }
    };

    await withTypedFailures(async () => {
      while (!p.done) {
        const page = await readSnapshotPage(kandji, input.stream, p.position, p.pages, {
          signal: ctx.cancellationSignal,
          keepAlive: () => ctx.heartbeat(p),
        });
        await take(page.rows);
        p.position = page.next as string | number | null; // detections or threats only
        p.done = page.done;
        p.pages += 1;
        p.seen = current.encode();
        ctx.heartbeat(p);
      }
    }, ctx.info.attempt);

    const gone = previous.missingFrom(current);
    activityLogger(deps, { tenant: input.tenant, stream: input.stream }).info(
      { rows: p.rows, fresh: p.fresh, gone, pages: p.pages, known: current.size },
      'sweep complete',
    );
    return {
      seen: current.encode(),
      rows: p.rows,
      fresh: p.fresh,
      gone,
      known: current.size,
      pages: p.pages,
      shipped: p.ship.shipped,
      batches: p.ship.batches,
      deadLetters: p.ship.deadLetters,
      deadLettered: p.ship.deadLettered,
      trimmed: p.ship.trimmed,
      stale: { count: p.ship.stale, policy: stalePolicy },
    };
  };
}
