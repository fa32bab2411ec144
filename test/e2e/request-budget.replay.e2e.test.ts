/**
 * Determinism of the tenant's request budget workflow: every recorded history (test/histories/request-budget-*)
 * replays against the current code, and so does a fresh one with what 0.3 callers send (bounded waits, owners,
 * priorities, claims redeemed, slots given back). RECORD_HISTORIES=1 saves the fresh one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { buildDataConverter } from '../../src/temporal/data-converter';
import { FORWARDER_VERSION } from '../../src/version';
import { releaseSignal, type Reservation } from '../../workflows/request-budget';
import { workflowBundle } from '../helpers/harness';
import { recordBudgetHistory } from '../helpers/record-budget-history';

const HISTORIES = path.join(__dirname, '../histories');
const dataConverter = buildDataConverter();

describe('request budget replay', () => {
  const recorded = fs.readdirSync(HISTORIES).filter((f) => f.startsWith('request-budget-') && f.endsWith('.binpb'));

  it('has a recorded history of the released budget workflow', () => {
    expect(recorded).toContain('request-budget-claims-0.3.0.binpb');
  });

  it.each(recorded)('replays %s', async (file) => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(HISTORIES, file)));
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter }, history);
  });

  it('replays a fresh history with bounded waits, claims, priorities and slots given back', async () => {
    const answers: Reservation[] = [];
    const bytes = await recordBudgetHistory(async (update, handle) => {
      // The hour (4) is spent: a caller that may wait 1 s gets a claim, a backfill queues behind it.
      answers.push(
        (await update({
          count: 1,
          perHour: 4,
          maxWaitMs: 1_000,
          owner: 'wf/readAuditPageRef',
          priority: 'live',
        })) as Reservation,
      );
      answers.push(
        (await update({
          count: 1,
          perHour: 4,
          maxWaitMs: 0,
          owner: 'wf/bf-1/readAuditPageRef',
          priority: 'backfill',
        })) as Reservation,
      );
      // A caller that may wait long enough books its slots (after those already scheduled), and gives one back.
      const booked = (await update({
        count: 2,
        perHour: 100,
        maxWaitMs: 3 * 3_600_000,
        owner: 'wf/sweepSnapshotState',
      })) as Reservation;
      answers.push(booked);
      await handle.signal(releaseSignal, { times: booked.times!.slice(1) });
    });
    expect(answers[0]!.retryAfterMs).toBeGreaterThan(1_000);
    expect(answers[1]!.retryAfterMs).toBeGreaterThanOrEqual(answers[0]!.retryAfterMs!);
    expect(answers[2]!.waitsMs).toHaveLength(2);
    const history = temporal.api.history.v1.History.decode(bytes);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter }, history);
    if (process.env.RECORD_HISTORIES === '1')
      fs.writeFileSync(path.join(HISTORIES, `request-budget-claims-${FORWARDER_VERSION}.binpb`), bytes);
  });
});
