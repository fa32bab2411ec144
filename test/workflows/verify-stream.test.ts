/**
 * The verify workflow, fast: the real workflow code on the time-skipping test server with a fake verifyAuditHour.
 * Only hours closed 15 minutes ago are verified; a repaired hour is verified once more, without repairing again;
 * a failure that outlasts the retries makes the hour inconclusive, never missing; a Kandji budget wait is waited out.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type {
  VerifyAuditHourInput,
  VerifyAuditHourResult,
  VerifySnapshotWindowInput,
  VerifySnapshotWindowResult,
} from '../../activities';
import { FailureType } from '../../workflows/shared/failure-types';
import { HOUR_MS } from '../../workflows/shared/late-ledger';
import { verifyStream } from '../../workflows/verify-stream';
import { workflowTestWorld } from '../helpers/workflow-env';

const calls: VerifyAuditHourInput[] = [];
/** What the fake answers for an hour and a pass, or a failure to throw. */
let answer: (input: VerifyAuditHourInput, call: number) => Partial<VerifyAuditHourResult> | Error = () => ({});

const windows: VerifySnapshotWindowInput[] = [];
/** What the snapshot fake answers for a pass, or a failure to throw. */
let windowAnswer: (input: VerifySnapshotWindowInput) => Partial<VerifySnapshotWindowResult> | Error = () => ({});

const world = workflowTestWorld({
  verifySnapshotWindow: async (input: VerifySnapshotWindowInput): Promise<VerifySnapshotWindowResult> => {
    windows.push(input);
    const a = windowAnswer(input);
    if (a instanceof Error) throw a;
    return { rows: [], undated: 0, requests: 3, ...a };
  },
  verifyAuditHour: async (input: VerifyAuditHourInput): Promise<VerifyAuditHourResult> => {
    calls.push(input);
    const a = answer(input, calls.filter((c) => c.hour === input.hour).length);
    if (a instanceof Error) throw a;
    return {
      hour: input.hour,
      result: 'verified',
      kandji: 10,
      datadog: 10,
      missing: { quota: 0, excluded: 0, stale: 0, lost: 0 },
      repaired: 0,
      requests: 1,
      ...a,
    };
  },
});

beforeEach(() => {
  calls.length = 0;
  answer = () => ({});
  windows.length = 0;
  windowAnswer = () => ({});
});

const iso = (ms: number) => new Date(ms).toISOString();

async function run(hoursBack: number, stream?: 'detections' | 'threats') {
  const now = await world.env.currentTimeMs();
  const thisHour = now - (now % HOUR_MS);
  const handle = await world.start(verifyStream, {
    workflowId: `verify-${randomUUID()}`,
    args: [
      {
        tenant: 'acme',
        ...(stream ? { stream } : {}),
        from: iso(thisHour - hoursBack * HOUR_MS),
        to: iso(now),
        settleMs: 60_000,
      },
    ],
  });
  return { result: await handle.result(), thisHour };
}

test('only hours closed at least 15 minutes ago are verified; a repaired hour is verified once more without repair', async () => {
  const now = await world.env.currentTimeMs();
  const repairedHour = new Date(now - (now % HOUR_MS) - 2 * HOUR_MS).toISOString().slice(0, 13);
  answer = (input) =>
    input.hour === repairedHour && input.repair
      ? { result: 'repaired', datadog: 9, missing: { quota: 0, excluded: 0, stale: 0, lost: 1 }, repaired: 1 }
      : {};
  const { result } = await run(3);
  // The current hour never closed; the one before closed less than 15 minutes ago or more, depending on the clock.
  expect(result.rows.length + result.notClosed).toBe(4);
  expect(result.notClosed).toBeGreaterThanOrEqual(1);
  const repaired = result.rows.find((r) => r.hour === repairedHour);
  expect(repaired).toMatchObject({ result: 'repaired', repaired: 1, missing: { lost: 1 }, requests: 2 });
  expect(calls.filter((c) => c.hour === repairedHour).map((c) => c.repair)).toEqual([true, false]);
  expect(calls.filter((c) => c.repair === false)).toHaveLength(1);
});

test('a failure that outlasts the retries (a refused key, a rate limit that does not end) makes the hour inconclusive, not missing', async () => {
  answer = () =>
    ApplicationFailure.create({ type: FailureType.DatadogAuth, message: 'Datadog answered 403', nonRetryable: true });
  const { result } = await run(2);
  expect(result.rows.length).toBeGreaterThanOrEqual(1);
  for (const row of result.rows) {
    expect(row).toMatchObject({ result: 'inconclusive', missing: { quota: 0, excluded: 0, stale: 0, lost: 0 } });
    expect(row.reason).toContain(FailureType.DatadogAuth);
  }
});

test('a Kandji budget wait is waited out, then the hour is verified', async () => {
  answer = (_input, call) =>
    call === 1
      ? ApplicationFailure.create({
          type: FailureType.KandjiBudgetWait,
          message: 'no budget',
          nonRetryable: true,
          details: [{ waitMs: 10 * 60_000 }],
        })
      : {};
  const { result } = await run(2);
  expect(result.rows.length).toBeGreaterThanOrEqual(1);
  for (const row of result.rows) expect(row.result).toBe('verified');
  // Each hour: the attempt that had no budget, then the one after the wait.
  expect(calls).toHaveLength(2 * result.rows.length);
});

test('a worker without an application key: the first hour answers off, and no other hour is tried', async () => {
  answer = () => ({ result: 'off', reason: 'no DD_APP_KEY on this worker' });
  const { result } = await run(5);
  expect(result.rows).toEqual([expect.objectContaining({ result: 'off' })]);
  expect(calls).toHaveLength(1);
});

const hourRow = (hour: string, fields: Partial<VerifyAuditHourResult> = {}): VerifyAuditHourResult => ({
  hour,
  result: 'verified',
  kandji: 4,
  datadog: 4,
  missing: { quota: 0, excluded: 0, stale: 0, lost: 0 },
  repaired: 0,
  requests: 0,
  ...fields,
});

test('a snapshot stream is verified at once over its closed hours; only the hours it repaired are verified again, without repair', async () => {
  const now = await world.env.currentTimeMs();
  const thisHour = now - (now % HOUR_MS);
  const [h3, h2] = [3, 2].map((n) => iso(thisHour - n * HOUR_MS).slice(0, 13));
  windowAnswer = (input) =>
    input.repair
      ? {
          rows: [
            hourRow(h3!),
            hourRow(h2!, {
              result: 'repaired',
              datadog: 3,
              repaired: 1,
              missing: { quota: 0, excluded: 0, stale: 0, lost: 1 },
            }),
          ],
          undated: 2,
        }
      : { rows: [hourRow(h2!)] };
  const { result } = await run(3, 'detections');
  expect(calls).toHaveLength(0); // never the audit activity
  expect(windows.map((w) => [w.stream, w.repair, w.hours])).toEqual([
    ['detections', true, undefined],
    ['detections', false, [h2]],
  ]);
  expect(windows[0]!.from).toBe(iso(thisHour - 3 * HOUR_MS).replace('.000Z', '.000000Z'));
  expect(Date.parse(windows[0]!.to)).toBe(thisHour - (result.notClosed - 1) * HOUR_MS);
  expect(result).toMatchObject({ stream: 'detections', undated: 2, requests: 6 });
  expect(result.rows).toEqual([
    expect.objectContaining({ hour: h3, result: 'verified' }),
    expect.objectContaining({
      hour: h2,
      result: 'repaired',
      datadog: 4,
      repaired: 1,
      missing: expect.objectContaining({ lost: 1 }),
    }),
  ]);
});

test('a snapshot window with no closed hour calls no activity', async () => {
  const { result } = await run(0, 'threats');
  expect(windows).toHaveLength(0);
  expect(result).toMatchObject({ rows: [], notClosed: 1, stream: 'threats' });
});

test('a snapshot window whose activity fails past its retries leaves every closed hour inconclusive, nothing missing', async () => {
  windowAnswer = () =>
    ApplicationFailure.create({ type: FailureType.DatadogAuth, message: 'Datadog answered 403', nonRetryable: true });
  const { result } = await run(3, 'threats');
  expect(windows).toHaveLength(1);
  expect(result.rows.length).toBeGreaterThanOrEqual(2);
  for (const row of result.rows) {
    expect(row).toMatchObject({ result: 'inconclusive', missing: { quota: 0, excluded: 0, stale: 0, lost: 0 } });
    expect(row.reason).toContain(FailureType.DatadogAuth);
  }
});
