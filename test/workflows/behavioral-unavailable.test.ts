/**
 * A tenant without EDR on the behavioral-detections stream (the real workflow on the time-skipping server, a fake
 * sweep answering as the activity does for a 403 or 404): `unavailable` with Kandji's reason, re-checked less and
 * less often up to once a day — with the timings `start` gives the stream — and sweeping by itself once licensed.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { SweepSnapshotStateInput, SweepSnapshotStateResult } from '../../activities';
import { loadTenantConfig } from '../../src/config/env';
import { UNLICENSED_RECHECK_MS, configuredTimings } from '../../src/streams/stream-control';
import { FailureType } from '../../workflows/shared/failure-types';
import { snapshotStream } from '../../workflows/snapshot-stream';
import { settled, statusWhere, workflowTestWorld } from '../helpers/workflow-env';

const REASON = 'Kandji behavioral detections are not available to this tenant (EDR not licensed): Kandji answered 403';

/** The tenant's endpoint: unlicensed until `licensed`; the server-clock time of each sweep attempt. */
const tenant = { licensed: false, attempts: [] as number[] };

const activities = {
  sweepSnapshotState: async (input: SweepSnapshotStateInput): Promise<SweepSnapshotStateResult> => {
    tenant.attempts.push(Context.current().info.currentAttemptScheduledTimestampMs);
    if (!tenant.licensed)
      throw ApplicationFailure.create({
        type: FailureType.KandjiNotFound,
        message: REASON,
        nonRetryable: true,
        category: ApplicationFailureCategory.BENIGN,
      });
    return {
      state: { generation: input.generation, chunks: 0, rows: 3, inline: '' },
      rows: 3,
      fresh: 3,
      gone: 0,
      known: 3,
      pages: 1,
      previousRows: 0,
      withoutIdentity: 0,
      shipped: 3,
      batches: 1,
      deadLetters: [],
      deadLettered: 0,
      trimmed: 0,
      stale: { count: 0, policy: 'restamp' },
    };
  },
  dropSnapshotState: async () => undefined,
};

const world = workflowTestWorld(activities);

describe('behavioral detections on a tenant without EDR (time-skipping server)', () => {
  it('stays quietly unavailable with the reason, re-checks at most daily, and starts by itself once licensed', async () => {
    const config = loadTenantConfig({ KANDJI_API_URL: 'https://acme.api.kandji.io' });
    const timings = configuredTimings(config, 'behavioral-detections');
    expect(timings.unavailableRecheckMs).toBe(24 * 3_600_000);
    const h = await world.start(snapshotStream, {
      workflowId: `kandji-datadog/t-${randomUUID().slice(0, 8)}/behavioral-detections`,
      args: [
        {
          tenant: 'acme',
          stream: 'behavioral-detections',
          state: null,
          cursor: { since: new Date(0).toISOString(), known: 0 },
          timings,
        },
      ],
    });
    const s = await statusWhere(h, 'unavailable', (x) => x.state === 'unavailable');
    expect(s.lastError).toMatchObject({ type: FailureType.KandjiNotFound, during: 'sweep', message: REASON });
    expect(tenant.attempts).toHaveLength(1); // not retried: one request, no paging
    await settled(h);

    // Four days on the server's clock: re-checks back off to one a day (at the 5-minute cap of rejected
    // credentials they would be over a thousand).
    await world.env.sleep(4 * 86_400_000);
    await settled(h);
    const gaps = tenant.attempts.slice(1).map((t, i) => t - tenant.attempts[i]!);
    expect(tenant.attempts.length).toBeLessThan(20);
    // The longest wait is the day (plus the few server milliseconds of the workflow task), never more.
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(UNLICENSED_RECHECK_MS);
    expect(Math.max(...gaps)).toBeLessThan(UNLICENSED_RECHECK_MS + 60_000);
    expect((await statusWhere(h, 'still unavailable', (x) => x.state === 'unavailable')).counts.sweeps).toBe(0);

    // Licensed: the next daily re-check sweeps, and the stream runs on its own.
    tenant.licensed = true;
    await world.env.sleep(UNLICENSED_RECHECK_MS);
    const after = await statusWhere(h, 'caught up once licensed', (x) => x.state === 'caught_up');
    expect(after.counts.sweeps).toBeGreaterThanOrEqual(1);
    expect(after.counts.shipped).toBeGreaterThanOrEqual(3);
  });
});
