/**
 * Kandji's rows of a snapshot stream whose own time is in a window, by UTC hour: the whole current list is read (the
 * sweep's page reader; at backfill priority in the tenant's request budget, src/kandji/attempt.ts), heartbeating,
 * and only the rows of the window are kept (each version once: threat pages overlap).
 *
 * A row's own time is the one Datadog dates its log by (stale-events.ts officialTimeMs) — threats have none Datadog
 * reads (their logs are dated when received), so theirs is `detection_date`. A row without a readable time is
 * counted as undated and not verified.
 */
import type { Context } from '@temporalio/activity';
import { tenantDeps, type ActivityDeps } from './deps';
import type { Pulse } from './heartbeat-pulse';
import { officialTimeMs } from '../src/datadog/stale-events';
import { firstSnapshotPosition, readSnapshotPage } from '../src/kandji/snapshot-pages';
import { Fingerprint64Set, fingerprint64 } from '../src/streams/fingerprint64-set';
import { versionKey } from '../src/streams/record-identity';
import type { SnapshotStreamName } from '../workflows/shared/stream-status';

type Row = Record<string, unknown>;

export interface WindowRow {
  row: Row;
  /** fingerprint64 of its version key: what the sweep committed, and what verify looks for in Datadog. */
  fp: bigint;
}

export interface SnapshotWindow {
  /** `YYYY-MM-DDTHH` → the rows of that hour. */
  byHour: Map<string, WindowRow[]>;
  /** Rows of the list without a readable time of their own. */
  undated: number;
  /** Rows read (every version once). */
  read: number;
}

/** The time a snapshot row happened (epoch ms), or undefined when it has none we can read. */
export function rowTimeMs(stream: SnapshotStreamName, row: Row): number | undefined {
  if (stream !== 'threats') return officialTimeMs(row, stream);
  return officialTimeMs({ occurred_at: row.detection_date }); // read as any official time is (naive: UTC)
}

export async function readSnapshotWindow(
  deps: ActivityDeps,
  input: { tenant: string; stream: SnapshotStreamName; from: number; to: number },
  ctx: Context,
  pulse: Pulse,
): Promise<SnapshotWindow> {
  const { kandji, behavioralWindowDays } = tenantDeps(deps, input.tenant);
  const out: SnapshotWindow = { byHour: new Map(), undated: 0, read: 0 };
  const seen = new Fingerprint64Set();
  let position = firstSnapshotPosition(input.stream, behavioralWindowDays, (deps.now ?? Date.now)());
  for (let pages = 0, done = false; !done; pages++) {
    pulse.check();
    const page = await readSnapshotPage(kandji, input.stream, position, pages, {
      signal: ctx.cancellationSignal,
      keepAlive: pulse.beat,
    });
    for (const row of page.rows) keep(out, seen, input, row);
    [position, done] = [page.next, page.done];
  }
  return out;
}

function keep(
  out: SnapshotWindow,
  seen: Fingerprint64Set,
  input: { stream: SnapshotStreamName; from: number; to: number },
  row: Row,
): void {
  const fp = fingerprint64(versionKey(input.stream, row));
  if (!seen.add(fp)) return;
  out.read += 1;
  const t = rowTimeMs(input.stream, row);
  if (t === undefined) out.undated += 1;
  else if (t >= input.from && t < input.to) {
    const hour = new Date(t).toISOString().slice(0, 13);
    const rows = out.byHour.get(hour) ?? [];
    if (rows.length === 0) out.byHour.set(hour, rows);
    rows.push({ row, fp });
  }
}
