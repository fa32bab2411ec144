/**
 * The behavioral-detections sweep (MockActivityEnvironment, the simulator's store behind a fake Kandji, a fake
 * Datadog): each (id, threat_status) ships once, as `service: behavioral_detection` with the record's fields unchanged
 * and `detection_date` as the log's time; a tenant without EDR (403 or 404) is a quiet `unavailable`.
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActivityDeps } from '../../activities/deps';
import {
  sweepSnapshotStateActivity,
  type SweepSnapshotStateInput,
  type SweepSnapshotStateResult,
} from '../../activities/sweep-snapshot-state';
import { behavioralPage } from '../../simulators/kandji/behavioral-page';
import { BehavioralStore } from '../../simulators/kandji/behavioral-store';
import { RemoteError } from '../../src/remote-errors';
import { createLogger } from '../../src/telemetry/logger';
import { FailureType } from '../../workflows/shared/failure-types';
import type { SnapshotState } from '../../workflows/snapshot-state';

const TENANT = 'acme';
const NOW = Date.UTC(2026, 2, 10, 12);
const quiet = new DefaultLogger('ERROR');
/** A few detections: their state stays inline, no chunk workflow is started. */
const noChunks = { withAbortSignal: <R>(_s: AbortSignal, fn: () => R) => fn() } as unknown as Client;
const info = {
  workflowExecution: { workflowId: `kandji-datadog/${TENANT}/behavioral-detections`, runId: 'r' },
  taskQueue: 'q',
};

function setup(opts: { answer?: () => never; windowDays?: number } = {}) {
  const store = new BehavioralStore({ seed: 3 });
  const shipped: Record<string, unknown>[] = [];
  const queries: URLSearchParams[] = [];
  const getJson = async (path: string) => {
    const q = new URLSearchParams(path.split('?')[1]);
    queries.push(q);
    if (opts.answer) opts.answer();
    const page = behavioralPage(store, q, () => 'next', 10);
    if ('badRequest' in page) throw new Error(page.badRequest);
    return JSON.parse(page.body) as unknown;
  };
  const deps: ActivityDeps = {
    tenants: new Map([
      [
        TENANT,
        {
          kandji: { baseUrl: 'https://acme.api.kandji.io', getJson, getJsonSized: getJson as never },
          ddtags: `kandji_tenant:${TENANT}`,
          ...(opts.windowDays ? { behavioralWindowDays: opts.windowDays } : {}),
        },
      ],
    ]),
    datadog: { send: async (body: string) => void shipped.push(...(JSON.parse(body) as Record<string, unknown>[])) },
    logger: createLogger('silent'),
    now: () => NOW,
  };
  let state: SnapshotState | null = null;
  const sweep = async () => {
    const input: SweepSnapshotStateInput = {
      tenant: TENANT,
      stream: 'behavioral-detections',
      previous: state,
      generation: `g${Math.random()}`,
    };
    const env = new MockActivityEnvironment({ ...info, attempt: 1 }, { client: noChunks, logger: quiet });
    const result: SweepSnapshotStateResult = await env.run(sweepSnapshotStateActivity(deps), input);
    state = result.state;
    return result;
  };
  return { store, shipped, queries, sweep };
}

const ADDED = ['ddsource', 'service', 'ddtags', 'timestamp', 'kandji_datadog_original_time'];
const recordOf = (item: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(item).filter(([k]) => !ADDED.includes(k)));

describe('behavioral detections sweep', () => {
  it('ships every detection of the window once, fields unchanged, dated by detection_date', async () => {
    const { store, shipped, sweep } = setup();
    const fresh = store.add(23, new Date(NOW - 3_600_000));
    await sweep();
    expect(shipped.map((i) => i.id).sort()).toEqual(fresh.map((r) => r.id).sort());
    for (const item of shipped) {
      const record = store.get(item.id as string)!;
      expect(recordOf(item)).toEqual(record);
      expect(item).toMatchObject({ ddsource: 'kandji', service: 'behavioral_detection' });
      expect(item.timestamp).toBe(record.detection_date);
      expect(record.detection_date).toMatch(/\+00:00$/);
    }
  });

  it('ships a status change once more, and nothing for detections that did not change', async () => {
    const { store, shipped, sweep } = setup();
    const [a, b] = store.add(15, new Date(NOW - 3_600_000));
    await sweep();
    shipped.length = 0;
    store.changeStatus(a!.id, a!.threat_status === 'blocked' ? 'detected' : 'blocked');
    const [added] = store.add(1, new Date(NOW - 60_000));
    await sweep();
    expect(shipped.map((i) => [i.id, i.threat_status])).toEqual([
      [a!.id, store.get(a!.id)!.threat_status],
      [added!.id, added!.threat_status],
    ]);
    shipped.length = 0;
    store.remove([b!.id]);
    await sweep();
    expect(shipped).toEqual([]);
  });

  it('reads the configured window of days; a detection older than 18 h keeps its detection_date, the log its ship time', async () => {
    const { store, shipped, queries, sweep } = setup({ windowDays: 3 });
    const [old] = store.add(1, new Date(NOW - 2 * 86_400_000));
    await sweep();
    expect(queries[0]!.get('detection_date_from')).toBe('2026-03-07');
    expect(shipped).toHaveLength(1);
    expect(shipped[0]!.detection_date).toBe(old!.detection_date);
    expect(shipped[0]!.timestamp).toBe(new Date(NOW).toISOString().replace('Z', '000Z'));
    expect(shipped[0]!.kandji_datadog_original_time).toEqual({ field: 'detection_date', value: old!.detection_date });
  });

  it.each([403, 404])(
    'a tenant without EDR (%i) fails once, not retried, BENIGN, with the reason: no paging',
    async (status) => {
      const { queries, sweep } = setup({
        answer: () => {
          throw new RemoteError('kandji', status === 403 ? 'auth' : 'not_found', `Kandji answered ${status}`, {
            status,
          });
        },
      });
      const error = await sweep().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApplicationFailure);
      const failure = error as ApplicationFailure;
      expect(failure.type).toBe(FailureType.KandjiNotFound);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.category).toBe(ApplicationFailureCategory.BENIGN);
      expect(failure.message).toMatch(new RegExp(`EDR not licensed.*Kandji answered ${status}`));
      expect(queries).toHaveLength(1);
    },
  );
});
