/**
 * The state, lag and reachability gauges say what is true now: a terminated, failed, blocked or silent stream never
 * keeps its last good value, and at steady state they are read without a single query (a billed action): the state
 * from the stream's memo (DescribeWorkflowExecution), the lag from the cursor this process saw the stream commit.
 * Read through the same source the worker uses (temporalStatusSource) over a fake Temporal client, into the real
 * metrics on a meter that records what the Prometheus endpoint would show.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import type { TenantConfig } from '../../src/config/env';
import { CursorSightings } from '../../src/telemetry/cursor-sightings';
import { GAUGE_STATES, METRIC_NAMES, meterMetrics } from '../../src/telemetry/metrics';
import { GaugeMemory, readStatusGauges, temporalStatusSource } from '../../src/telemetry/status-gauges';
import type { PublishedGauges } from '../../workflows/shared/gauge-facts';

/** Last value of every gauge series, keyed `name{label=value,…}`. */
function recordingMeter(): { meter: MetricMeter; gauges: Map<string, number> } {
  const gauges = new Map<string, number>();
  const key = (name: string, tags: MetricTags = {}) =>
    `${name}{${Object.entries(tags)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',')}}`;
  const metric = (name: string) => ({
    add: () => undefined,
    record: () => undefined,
    set: (value: number, tags?: MetricTags) => gauges.set(key(name, tags), value),
  });
  const meter = {
    createCounter: metric,
    createHistogram: metric,
    createGauge: metric,
    createUpDownCounter: metric,
  } as unknown as MetricMeter;
  return { meter, gauges };
}

interface World {
  up: boolean;
  execution: string;
  runId: string;
  /** The stream's memo gauges (absent: the run has published nothing yet). */
  memo?: PublishedGauges;
  /** What the status query (or a completed run's result) answers. */
  status?: object;
  queryFails?: boolean;
  /** Since when a workflow task is pending (epoch ms). */
  taskPendingSince?: number;
  queries: number;
}

/** A Temporal client whose one stream answers what `world` says at the time; counts the queries asked. */
function fakeClient(world: World): Client {
  const handle = {
    describe: async () => {
      if (!world.up) throw new Error('14 UNAVAILABLE');
      if (world.execution === 'NOT_STARTED') throw new WorkflowNotFoundError('not found', 'wf', undefined);
      const ts = world.taskPendingSince;
      return {
        status: { name: world.execution },
        runId: world.runId,
        memo: world.memo ? { gauges: world.memo } : undefined,
        raw: {
          pendingWorkflowTask: ts ? { originalScheduledTime: msToTs(ts) } : null,
        },
      };
    },
    query: async () => {
      world.queries += 1;
      if (!world.up || world.queryFails) throw new Error('query timed out');
      return world.status;
    },
    result: async () => ({ status: world.status }),
  };
  return {
    connection: {
      workflowService: {
        getSystemInfo: async () => {
          if (!world.up) throw new Error('14 UNAVAILABLE');
          return {};
        },
      },
    },
    workflow: { getHandle: () => handle },
  } as unknown as Client;
}

const tenant = { tenant: 'acme', streams: ['audit'] } as TenantConfig;
const WORKFLOW_ID = 'kandji-datadog/acme/audit';
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
const cursorOf = (ageSeconds: number) => ({ since: ago(ageSeconds) });

/** One worker replica: its metrics, its sightings, its memory of the answers it had to ask for. */
function replica(world: World) {
  const { meter, gauges } = recordingMeter();
  const metrics = meterMetrics(meter);
  const sightings = new CursorSightings();
  const memory = new GaugeMemory();
  const source = temporalStatusSource(fakeClient(world), () => sightings.latest(WORKFLOW_ID));
  return {
    sightings,
    round: () => readStatusGauges(source, [tenant], metrics, memory),
    state: () =>
      GAUGE_STATES.filter((s) => gauges.get(`${METRIC_NAMES.state}{tenant=acme,stream=audit,state=${s}}`) === 1),
    lag: () => gauges.get(`${METRIC_NAMES.lag}{tenant=acme,stream=audit}`)!,
    parked: () => gauges.get(`${METRIC_NAMES.lateSweepParked}{tenant=acme,stream=audit}`),
    reachable: () => gauges.get(`${METRIC_NAMES.temporalReachable}{}`),
  };
}

const newWorld = (more: Partial<World> = {}): World => ({
  up: true,
  execution: 'RUNNING',
  runId: 'run-1',
  queries: 0,
  ...more,
});

describe('status gauges', () => {
  afterEach(() => jest.restoreAllMocks());

  it('at steady state: state from the memo, lag from the cursor this process saw, not one query in many rounds', async () => {
    const world = newWorld({ memo: { state: 'caught_up', since: ago(3600), parked: 1 } });
    const pod = replica(world);
    pod.sightings.record(WORKFLOW_ID, ago(120));
    for (let i = 0; i < 10; i++) await pod.round();
    expect(pod.state()).toEqual(['caught_up']);
    expect(pod.lag()).toBeGreaterThanOrEqual(120);
    expect(pod.lag()).toBeLessThan(3600);
    expect(pod.parked()).toBe(1);
    expect(pod.reachable()).toBe(1);
    expect(world.queries).toBe(0);
  });

  it('a stream that stops shipping: its lag keeps growing, round after round', async () => {
    const world = newWorld({ memo: { state: 'caught_up', since: ago(600), parked: 0 } });
    const pod = replica(world);
    pod.sightings.record(WORKFLOW_ID, ago(60));
    await pod.round();
    const before = pod.lag();
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 3_600_000);
    await pod.round();
    expect(pod.lag() - before).toBeGreaterThanOrEqual(3_599);
    expect(world.queries).toBe(0);
  });

  it('blocked (published in the memo): blocked at once, whatever this process saw last', async () => {
    const world = newWorld({ memo: { state: 'caught_up', since: ago(600), parked: 0 } });
    const pod = replica(world);
    pod.sightings.record(WORKFLOW_ID, ago(60));
    await pod.round();
    world.memo = { state: 'blocked', since: ago(600), parked: 0 };
    await pod.round();
    expect(pod.state()).toEqual(['blocked']);
    expect(world.queries).toBe(0);
  });

  it('two replicas: the one that never ran the stream asks once for its cursor, and its lag is never below the true one', async () => {
    const world = newWorld({
      memo: { state: 'caught_up', since: ago(7200), parked: 0 },
      status: { state: 'caught_up', cursor: cursorOf(300) },
    });
    const ran = replica(world);
    const other = replica(world);
    ran.sightings.record(WORKFLOW_ID, ago(60)); // shipped since the query below: only `ran` saw it
    for (let i = 0; i < 5; i++) await Promise.all([ran.round(), other.round()]);
    expect(world.queries).toBe(1);
    expect(ran.lag()).toBeGreaterThanOrEqual(60);
    expect(ran.lag()).toBeLessThan(300);
    // The seed, not the older memo: 300 s, not 7,200 s. Datadog's `min` across pods gives `ran`'s true lag.
    expect(other.lag()).toBeGreaterThanOrEqual(300);
    expect(other.lag()).toBeLessThan(7200);
    expect([ran.state(), other.state()]).toEqual([['caught_up'], ['caught_up']]);
  });

  it('a run that has published nothing yet is asked once, not every round; its memo wins once there', async () => {
    const world = newWorld({ status: { state: 'running', cursor: cursorOf(30) } });
    const pod = replica(world);
    for (let i = 0; i < 5; i++) await pod.round();
    expect(pod.state()).toEqual(['running']);
    expect(world.queries).toBe(1);
    world.memo = { state: 'retrying', since: ago(30), parked: 0 };
    await pod.round();
    expect(pod.state()).toEqual(['retrying']);
    expect(world.queries).toBe(1);
  });

  it('after a terminate: not_running, and no lag (NaN), never the last good values', async () => {
    const world = newWorld({ memo: { state: 'caught_up', since: ago(60), parked: 2 } });
    const pod = replica(world);
    pod.sightings.record(WORKFLOW_ID, ago(60));
    await pod.round();
    Object.assign(world, { execution: 'TERMINATED' });
    await pod.round();
    expect(pod.state()).toEqual(['not_running']);
    expect(pod.lag()).toBeNaN();
    expect(pod.parked()).toBe(0);
  });

  it('never started: not_running, no lag', async () => {
    const pod = replica(newWorld({ execution: 'NOT_STARTED' }));
    await pod.round();
    expect(pod.state()).toEqual(['not_running']);
    expect(pod.lag()).toBeNaN();
  });

  it('a stream stopped by an operator: stopped, with its lag still growing (its final result, not a query)', async () => {
    const world = newWorld({ execution: 'COMPLETED', status: { state: 'stopped', cursor: cursorOf(600) } });
    const pod = replica(world);
    await pod.round();
    expect(pod.state()).toEqual(['stopped']);
    expect(pod.lag()).toBeGreaterThanOrEqual(600);
    expect(world.queries).toBe(0);
  });

  it('a running stream no worker moves (its workflow task pending over a minute): unknown, no lag', async () => {
    const world = newWorld({ memo: { state: 'caught_up', since: ago(5), parked: 0 } });
    const pod = replica(world);
    pod.sightings.record(WORKFLOW_ID, ago(5));
    world.taskPendingSince = Date.now() - 5_000; // a task being handled now
    await pod.round();
    expect(pod.state()).toEqual(['caught_up']);
    world.taskPendingSince = Date.now() - 120_000;
    await pod.round();
    expect(pod.state()).toEqual(['unknown']);
    expect(pod.lag()).toBeNaN();
  });

  it('a run that has published nothing and does not answer: unknown, no lag; asked again next round', async () => {
    const world = newWorld({ queryFails: true });
    const pod = replica(world);
    await pod.round();
    expect(pod.state()).toEqual(['unknown']);
    expect(pod.lag()).toBeNaN();
    await pod.round();
    expect(world.queries).toBe(2);
  });

  it('Temporal unreachable: reachability 0, every stream unknown with no lag', async () => {
    const world = newWorld({ memo: { state: 'caught_up', since: ago(5), parked: 0 } });
    const pod = replica(world);
    pod.sightings.record(WORKFLOW_ID, ago(5));
    await pod.round();
    world.up = false;
    await pod.round();
    expect(pod.reachable()).toBe(0);
    expect(pod.state()).toEqual(['unknown']);
    expect(pod.lag()).toBeNaN();
  });
});
