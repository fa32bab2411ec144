/**
 * The forwarder's own metrics, all defined here. They go through Temporal's runtime meter, so the worker's
 * Prometheus endpoint (METRICS_PORT) serves them next to Temporal's worker metrics (`temporal_*`).
 *
 * Everything else records through the small `ForwarderMetrics` interface; code that runs without metrics (tests,
 * the demo) passes nothing and records nothing.
 */
import type { MetricMeter } from '@temporalio/common';
import type { StreamName, StreamState } from '../../workflows/shared/stream-status';

/** Per record of a stream: what happened to it. */
export type RecordOutcome = 'fetched' | 'shipped' | 'dead_lettered' | 'stale' | 'late' | 'late_resent' | 'trimmed';

export const RECORD_OUTCOMES: readonly RecordOutcome[] = [
  'fetched',
  'shipped',
  'dead_lettered',
  'stale',
  'late',
  'late_resent',
  'trimmed',
];

export const STREAM_STATES: readonly StreamState[] = [
  'starting',
  'paused',
  'running',
  'caught_up',
  'retrying',
  'blocked',
  'unavailable',
  'stopped',
];

/**
 * What the state gauge can show: the stream's own state, or `not_running` (its workflow is not running: terminated,
 * failed, never started) or `unknown` (it did not answer, or Temporal is unreachable).
 */
export type GaugeState = StreamState | 'not_running' | 'unknown';

export const GAUGE_STATES: readonly GaugeState[] = [...STREAM_STATES, 'not_running', 'unknown'];

export interface ForwarderMetrics {
  /** `count` records of a stream had this outcome. */
  records(tenant: string, stream: StreamName, outcome: RecordOutcome, count: number): void;
  /** Age of the stream's cursor (now − newest shipped event time); NaN when unknown (Datadog drops the point). */
  lag(tenant: string, stream: StreamName, seconds: number): void;
  /** The stream's current state (1 for it, 0 for every other state). */
  state(tenant: string, stream: StreamName, state: GaugeState): void;
  /** Audit: late-sweep hours parked (no request budget, or failing), each tried again later beside the live tail. */
  lateSweepParked(tenant: string, stream: StreamName, hours: number): void;
  /** Whether Temporal answered the last check (1) or not (0). */
  temporalReachable(reachable: boolean): void;
  /** One Kandji API call ended: `status` is the HTTP status, or the failure kind when there was none (`network`). */
  kandjiRequest(tenant: string, stream: StreamName | 'unknown', status: string): void;
  /** Kandji requests the tenant may still make in the current sliding hour (its KANDJI_REQUESTS_PER_HOUR budget). */
  budgetRemaining(tenant: string, remaining: number): void;
  /** One Datadog intake request ended, carrying `bytes` of JSON (before gzip). */
  datadogRequest(tenant: string, stream: StreamName | 'unknown', status: string, bytes: number): void;
  /** `verify` settled one hour with this result (verified, explained, repaired, gap, inconclusive, off). */
  verifiedHour(tenant: string, stream: StreamName, result: string): void;
  /** `verify` found `count` events of a stream missing in Datadog, for this reason (quota, excluded, stale, lost). */
  recordsMissing(tenant: string, stream: StreamName, reason: string, count: number): void;
}

/** Metric names as the Prometheus endpoint shows them (Datadog's openmetrics check maps counters to `<name>.count`). */
export const METRIC_NAMES = {
  records: (outcome: RecordOutcome) => `kandji_datadog_records_${outcome}`,
  lag: 'kandji_datadog_stream_lag_seconds',
  state: 'kandji_datadog_stream_state',
  lateSweepParked: 'kandji_datadog_late_sweep_parked_hours',
  temporalReachable: 'kandji_datadog_temporal_reachable',
  kandjiRequests: 'kandji_datadog_kandji_requests',
  budgetRemaining: 'kandji_datadog_kandji_budget_remaining',
  datadogRequests: 'kandji_datadog_datadog_requests',
  datadogBytes: 'kandji_datadog_datadog_bytes_sent',
  verifiedHours: 'kandji_datadog_verified_hours',
  recordsMissing: 'kandji_datadog_records_missing',
} as const;

const RECORD_HELP: Record<RecordOutcome, string> = {
  fetched: 'Records read from Kandji that the stream had not shipped yet (audit) or rows read by a sweep (snapshots)',
  shipped: 'Records Datadog accepted',
  dead_lettered: 'Records Datadog refused even alone (400): logged with their identity, not shipped',
  stale: "Records older than Datadog's 18-hour window (handled as DD_STALE_EVENTS says)",
  late: 'Audit events that became visible in Kandji after later ones were shipped (shipped now, once), by the polls or the late sweep',
  late_resent:
    'Audit events sent again because an hour held too many late events to list them (may be in Datadog twice)',
  trimmed: "Records over Datadog's 1 MB per log whose largest fields were trimmed",
};

/** Each counter: its unit and help text. */
const COUNTERS = {
  kandjiRequests: { unit: 'requests', help: 'Kandji API calls by HTTP status' },
  datadogRequests: { unit: 'requests', help: 'Datadog intake requests by HTTP status' },
  datadogBytes: { unit: 'bytes', help: 'JSON bytes sent to the Datadog intake (before gzip)' },
  verifiedHours: { unit: 'hours', help: 'Hours verify compared between Kandji and Datadog, by result' },
  recordsMissing: {
    unit: 'records',
    help: 'Events Kandji holds that Datadog did not index, found by verify, by reason',
  },
} as const;

/** Each gauge: its value type, unit and help text. */
const GAUGES = {
  lag: { type: 'float', unit: 's', help: "Age of the stream's cursor: now minus the newest shipped event time" },
  lateSweepParked: {
    type: 'int',
    unit: 'hours',
    help: 'Audit hours whose late sweep is parked (no request budget, or failing): tried again later, the live tail goes on',
  },
  state: {
    type: 'int',
    unit: '',
    help: 'The stream is in this state (1) or not (0); not_running: its workflow is not running; unknown: it did not answer',
  },
  temporalReachable: { type: 'int', unit: '', help: 'Temporal answered the last check (1) or not (0)' },
  budgetRemaining: {
    type: 'int',
    unit: 'requests',
    help: 'Kandji requests left in the tenant budget over the sliding hour',
  },
} as const;

/** The metrics on a Temporal `MetricMeter` (e.g. `Runtime.instance().metricMeter`). */
export function meterMetrics(meter: MetricMeter): ForwarderMetrics {
  const records = Object.fromEntries(
    RECORD_OUTCOMES.map((o) => [o, meter.createCounter(METRIC_NAMES.records(o), 'records', RECORD_HELP[o])]),
  ) as Record<RecordOutcome, ReturnType<MetricMeter['createCounter']>>;
  const counter = (key: keyof typeof COUNTERS) =>
    meter.createCounter(METRIC_NAMES[key], COUNTERS[key].unit, COUNTERS[key].help);
  const gauge = (key: keyof typeof GAUGES) =>
    meter.createGauge(METRIC_NAMES[key], GAUGES[key].type, GAUGES[key].unit, GAUGES[key].help);
  const lag = gauge('lag');
  const lateSweepParked = gauge('lateSweepParked');
  const state = gauge('state');
  const reachable = gauge('temporalReachable');
  const budget = gauge('budgetRemaining');
  const kandjiRequests = counter('kandjiRequests');
  const ddRequests = counter('datadogRequests');
  const ddBytes = counter('datadogBytes');
  const verifiedHours = counter('verifiedHours');
  const missing = counter('recordsMissing');
  return {
    verifiedHour: (tenant, stream, result) => verifiedHours.add(1, { tenant, stream, result }),
    recordsMissing: (tenant, stream, reason, count) => {
      if (count > 0) missing.add(count, { tenant, stream, reason });
    },
    records: (tenant, stream, outcome, count) => {
      if (count > 0) records[outcome].add(count, { tenant, stream });
    },
    lag: (tenant, stream, seconds) => lag.set(seconds, { tenant, stream }),
    state: (tenant, stream, current) => {
      for (const s of GAUGE_STATES) state.set(s === current ? 1 : 0, { tenant, stream, state: s });
    },
    lateSweepParked: (tenant, stream, hours) => lateSweepParked.set(hours, { tenant, stream }),
    temporalReachable: (ok) => reachable.set(ok ? 1 : 0),
    kandjiRequest: (tenant, stream, status) => kandjiRequests.add(1, { tenant, stream, status }),
    budgetRemaining: (tenant, remaining) => budget.set(Math.max(0, remaining), { tenant }),
    datadogRequest: (tenant, stream, status, bytes) => {
      ddRequests.add(1, { tenant, stream, status });
      if (bytes > 0) ddBytes.add(bytes, { tenant, stream });
    },
  };
}
