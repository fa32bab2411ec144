/**
 * `start` on a running stream applies the configured timings (applyTimingsUpdate): the stream waits by the new ones
 * from then on, status shows them, the same timings again change nothing, and a bad payload is refused.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import type { AuditPageRef, AwaitAuditPageInput, ReadAuditPageRefInput } from '../../activities';
import { auditStream } from '../../workflows/audit-stream';
import { initialAuditCursor } from '../../workflows/shared/audit-cursor';
import { applyTimingsUpdate } from '../../workflows/shared/messages';
import type { AuditStreamInput } from '../../workflows/shared/stream-input';
import { defaultTimings, settled, statusWhere, workflowTestWorld } from '../helpers/workflow-env';

const EventType = temporal.api.enums.v1.EventType;
const timings = defaultTimings('audit');

/** Kandji with nothing to read: every poll is one empty page. */
const activities = {
  readAuditPageRef: async ({ cursor }: ReadAuditPageRefInput): Promise<AuditPageRef> => ({
    pageId: null,
    workerQueue: null,
    count: 0,
    bytes: 0,
    pages: 1,
    skipped: 0,
    late: 0,
    next: cursor,
  }),
};

const world = workflowTestWorld(activities);

/** How long each idle wait the stream started waits before its first poll (its input's firstPollInMs), in order. */
async function idleWaits(h: WorkflowHandle): Promise<number[]> {
  const events = (await h.fetchHistory()).events ?? [];
  const waits: number[] = [];
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (
      e.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ||
      scheduled?.activityType?.name !== 'awaitAuditPage'
    )
      continue;
    const input = await decodeFromPayloadsAtIndex<AwaitAuditPageInput>(
      world.env.client.options.loadedDataConverter,
      0,
      scheduled.input!.payloads!,
    );
    waits.push(input.firstPollInMs ?? 0);
  }
  return waits;
}

describe('applying timings to a running stream', () => {
  it('waits by the new poll interval from the next wait on, shows it in status, and answers "unchanged" the second time', async () => {
    const h = await world.start(auditStream, {
      workflowId: `kandji-datadog/t-${randomUUID().slice(0, 8)}/audit`,
      args: [{ tenant: 't', cursor: initialAuditCursor('2026-03-01T00:00:00Z'), timings: { ...timings } }],
    });
    await statusWhere(h, 'caught up', (s) => s.state === 'caught_up');
    await settled(h);
    expect(await idleWaits(h)).toEqual([timings.pollIntervalMs]);

    const wanted = { ...timings, pollIntervalMs: 10 * 60_000, errorBackoffMs: 5_000 };
    const applied = await h.executeUpdate(applyTimingsUpdate, { args: [wanted] });
    expect(applied).toEqual({ changed: true, from: timings });
    expect(await h.executeUpdate(applyTimingsUpdate, { args: [wanted] })).toEqual({ changed: false, from: wanted });
    await statusWhere(h, 'the new interval in status', (s) => s.pollIntervalMs === wanted.pollIntervalMs);

    // The wait running ends at once (it was given the old interval); the stream reads, and waits by the new one.
    await settled(h);
    await world.env.sleep(wanted.pollIntervalMs);
    await settled(h);
    expect(await idleWaits(h)).toEqual([timings.pollIntervalMs, wanted.pollIntervalMs, wanted.pollIntervalMs]);
  });

  it('continues as new with the new timings when attempts or late-sweep tiers change (each run reads those once)', async () => {
    const h = await world.start(auditStream, {
      workflowId: `kandji-datadog/t-${randomUUID().slice(0, 8)}/audit`,
      args: [{ tenant: 't', cursor: initialAuditCursor('2026-03-01T00:00:00Z'), timings: { ...timings } }],
    });
    const before = await statusWhere(h, 'caught up', (s) => s.state === 'caught_up');
    await settled(h);
    const wanted = { ...timings, fetchAttempts: 3, lateSweepTiersMs: [60_000, 600_000] };
    expect(await h.executeUpdate(applyTimingsUpdate, { args: [wanted] })).toMatchObject({ changed: true });

    // When the wait in progress ends (its first poll, one interval on), a new run, with the new timings in its input.
    await world.env.sleep(timings.pollIntervalMs);
    const after = await statusWhere(h, 'a new run', (s) => s.generation > before.generation);
    expect(after.pollIntervalMs).toBe(timings.pollIntervalMs);
    const started = (await h.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!;
    const input = await decodeFromPayloadsAtIndex<AuditStreamInput>(
      world.env.client.options.loadedDataConverter,
      0,
      started.input!.payloads!,
    );
    expect(input.timings).toEqual(wanted);
    expect(await h.executeUpdate(applyTimingsUpdate, { args: [wanted] })).toMatchObject({ changed: false });
  });

  it('refuses timings that are not timings, and keeps its own', async () => {
    const h = await world.start(auditStream, {
      workflowId: `kandji-datadog/t-${randomUUID().slice(0, 8)}/audit`,
      args: [{ tenant: 't', cursor: initialAuditCursor('2026-03-01T00:00:00Z'), timings: { ...timings } }],
    });
    await statusWhere(h, 'caught up', (s) => s.state === 'caught_up');
    const bad = { ...timings, pollIntervalMs: -1, extra: 1 } as unknown as typeof timings;
    const err = await h.executeUpdate(applyTimingsUpdate, { args: [bad] }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String(((err as Error).cause as Error | undefined)?.message)).toMatch(
      /unrecognized key: "extra".*pollIntervalMs: expected a number, at least 1/,
    );
    expect(await h.executeUpdate(applyTimingsUpdate, { args: [timings] })).toEqual({ changed: false, from: timings });
  });
});
