/**
 * The state, lag and reachability gauges say what is true now: a terminated, failed or silent stream never keeps
 * its last good value. Read through the same source the worker uses (temporalStatusSource) over a fake Temporal
 * client, into the real metrics on a meter that records what the Prometheus endpoint would show.
 */
import type { Client } from '@temporalio/client';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import type { TenantConfig } from '../../src/config/env';
import { GAUGE_STATES, METRIC_NAMES, meterMetrics } from '../../src/telemetry/metrics';
import { readStatusGauges, temporalStatusSource } from '../../src/telemetry/status-gauges';

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

/** A Temporal client whose one stream answers what `world` says at the time. */
function fakeClient(world: { up: boolean; execution: string; status?: object; queryFails?: boolean }): Client {
  const handle = {
    describe: async () => {
      if (!world.up) throw new Error('14 UNAVAILABLE');
      return { status: { name: world.execution } };
    },
    query: async () => {
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
const cursorOf = (ageSeconds: number) => ({ since: new Date(Date.now() - ageSeconds * 1000).toISOString() });

describe('status gauges', () => {
  const { meter, gauges } = recordingMeter();
  const metrics = meterMetrics(meter);
  const world: Parameters<typeof fakeClient>[0] = { up: true, execution: 'RUNNING' };
  const round = () => readStatusGauges(temporalStatusSource(fakeClient(world)), [tenant], metrics);
  const state = () =>
    GAUGE_STATES.filter((s) => gauges.get(`${METRIC_NAMES.state}{tenant=acme,stream=audit,state=${s}}`) === 1);
  const lag = () => gauges.get(`${METRIC_NAMES.lag}{tenant=acme,stream=audit}`);
  const reachable = () => gauges.get(`${METRIC_NAMES.temporalReachable}{}`);

  it('show the state and lag of a running stream, and Temporal reachable', async () => {
    world.status = { state: 'caught_up', cursor: cursorOf(120) };
    await round();
    expect(state()).toEqual(['caught_up']);
    expect(lag()).toBeGreaterThanOrEqual(120);
    expect(reachable()).toBe(1);
  });

  it('after a terminate: not_running, and no lag (NaN), never the last good values', async () => {
    Object.assign(world, { execution: 'TERMINATED', status: undefined });
    await round();
    expect(state()).toEqual(['not_running']);
    expect(lag()).toBeNaN();
  });

  it('a stream stopped by an operator: stopped, with its lag still growing', async () => {
    Object.assign(world, { execution: 'COMPLETED', status: { state: 'stopped', cursor: cursorOf(600) } });
    await round();
    expect(state()).toEqual(['stopped']);
    expect(lag()).toBeGreaterThanOrEqual(600);
  });

  it('a running stream that does not answer its query: unknown, no lag', async () => {
    Object.assign(world, { execution: 'RUNNING', status: { state: 'caught_up', cursor: cursorOf(5) } });
    await round();
    expect(state()).toEqual(['caught_up']);
    world.queryFails = true;
    await round();
    expect(state()).toEqual(['unknown']);
    expect(lag()).toBeNaN();
  });

  it('Temporal unreachable: reachability 0, every stream unknown with no lag', async () => {
    Object.assign(world, { queryFails: false, up: false });
    await round();
    expect(reachable()).toBe(0);
    expect(state()).toEqual(['unknown']);
    expect(lag()).toBeNaN();
  });
});
