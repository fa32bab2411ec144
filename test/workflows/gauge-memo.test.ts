/**
 * What a stream tells the metrics endpoint without being queried (workflows/shared/gauge-facts.ts): its state in
 * its memo, upserted only when the state changes (an upsert is billed), and its cursor to the worker through a sink
 * (free). The real audit workflow on the time-skipping test server; Kandji and Datadog replaced by a tiny fake log.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { AuditPageRef, ReadAuditPageRefInput, ShipAuditPageInput } from '../../activities';
import { auditStream } from '../../workflows/audit-stream';
import { initialAuditCursor, type AuditCursor } from '../../workflows/shared/audit-cursor';
import { FailureType } from '../../workflows/shared/failure-types';
import { GAUGE_MEMO_KEY, type PublishedGauges } from '../../workflows/shared/gauge-facts';
import { keyToMillis, millisToKey } from '../../workflows/shared/timestamps';
import { defaultTimings, settled, statusWhere, workflowTestWorld } from '../helpers/workflow-env';

const START_MS = Date.parse('2026-03-01T00:00:00Z');
const timings = defaultTimings('audit');
const keyOf = (n: number) => millisToKey(START_MS + n * 1000);
const numberOf = (key: string) => Math.round((keyToMillis(key) - START_MS) / 1000);

/** Events 1…`available` in pages of two; Datadog refuses everything while `refusing`. */
class TinyLog {
  readonly tenant = `t-${randomUUID().slice(0, 8)}`;
  available = 0;
  refusing = false;
  private readonly pages = new Map<string, number>();

  read(cursor: AuditCursor): AuditPageRef {
    const since = numberOf(cursor.since);
    const last = Math.min(this.available, since + 2);
    const pageId = last > since ? randomUUID() : null;
    if (pageId) this.pages.set(pageId, last - since);
    const next: AuditCursor = { ...cursor, since: keyOf(last), page: null };
    if (last < this.available) next.more = true;
    else delete next.more;
    return { pageId, workerQueue: null, count: last - since, bytes: 0, pages: 1, skipped: 0, late: 0, next };
  }

  ship(pageId: string) {
    if (this.refusing)
      throw ApplicationFailure.create({ type: FailureType.DatadogRefusedAll, message: 'refused', nonRetryable: true });
    const count = this.pages.get(pageId) ?? 0;
    const none = { count: 0, policy: 'ship' as const };
    return {
      shipped: count,
      batches: 1,
      deadLetters: [],
      deadLettered: 0,
      stale: none,
      trimmed: 0,
      reread: false,
      count,
    };
  }
}

const logs = new Map<string, TinyLog>();
const world = workflowTestWorld({
  readAuditPageRef: async ({ tenant, cursor }: ReadAuditPageRefInput) => logs.get(tenant)!.read(cursor),
  shipAuditPage: async ({ tenant, pageId }: ShipAuditPageInput) => logs.get(tenant)!.ship(pageId),
});

async function startStream(log: TinyLog): Promise<WorkflowHandle<typeof auditStream>> {
  logs.set(log.tenant, log);
  return world.start(auditStream, {
    workflowId: `kandji-datadog/${log.tenant}/audit`,
    args: [
      {
        tenant: log.tenant,
        cursor: initialAuditCursor(new Date(START_MS).toISOString()),
        timings: { ...timings, lateSweepTiersMs: [] },
      },
    ],
  });
}

const published = async (h: WorkflowHandle) => (await h.describe()).memo?.[GAUGE_MEMO_KEY] as PublishedGauges;
const memoUpserts = async (h: WorkflowHandle) =>
  ((await h.fetchHistory()).events ?? []).filter(
    (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
  ).length;

describe('stream gauges published without a query (fake activities, time-skipping server)', () => {
  it('caught up: the memo says caught_up, idle and busy polls upsert nothing more, the worker sees each cursor', async () => {
    const log = new TinyLog();
    log.available = 4;
    const h = await startStream(log);
    const s = await statusWhere(h, 'caught up', (x) => x.state === 'caught_up' && x.counts.shipped === 4);
    await settled(h);
    expect(await published(h)).toMatchObject({ state: 'caught_up', since: s.cursor.since });
    expect(world.sightings.latest(h.workflowId)).toBe(s.cursor.since);
    const upserts = await memoUpserts(h);

    await world.env.sleep(10 * timings.pollIntervalMs); // ten idle polls
    log.available = 8;
    await world.env.sleep(2 * timings.pollIntervalMs); // busy polls: running, shipping, caught up again
    const busy = await statusWhere(h, 'shipped the new events', (x) => x.counts.shipped === 8);
    await world.env.sleep(timings.pollIntervalMs);
    await settled(h);

    expect(await memoUpserts(h)).toBe(upserts);
    expect((await published(h)).state).toBe('caught_up');
    expect(numberOf(world.sightings.latest(h.workflowId)!)).toBe(numberOf(busy.cursor.since));
    expect(numberOf(busy.cursor.since)).toBe(8);
  });

  it('blocked, then recovered: the memo says blocked at once, and caught_up once it ships again', async () => {
    const log = new TinyLog();
    log.available = 2;
    const h = await startStream(log);
    await statusWhere(h, 'caught up', (x) => x.state === 'caught_up');
    log.refusing = true;
    log.available = 4;
    await world.env.sleep(timings.pollIntervalMs);
    await statusWhere(h, 'blocked', (x) => x.state === 'blocked');
    await settled(h);
    expect((await published(h)).state).toBe('blocked');

    log.refusing = false;
    await world.env.sleep(timings.authRecheckMs + timings.pollIntervalMs);
    await statusWhere(h, 'caught up again', (x) => x.state === 'caught_up' && x.counts.shipped === 4);
    await settled(h);
    expect((await published(h)).state).toBe('caught_up');
  });
});
