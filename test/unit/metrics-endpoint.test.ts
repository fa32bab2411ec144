/**
 * The worker's Prometheus endpoint as the Datadog Agent reads it: the real exporter (Temporal's Runtime installed
 * with the worker's options, in a child process) after one of every metric of ours was recorded. It parses under
 * the OpenMetrics rules, and the Agent annotation maps every metric we define and only the Temporal series that
 * deploy/datadog/ uses.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../../scripts/image-command';
import { METRIC_NAMES } from '../../src/telemetry/metrics';
import { freePort } from '../../src/temporal/dev-server';
import { openMetricsProblems, parsePrometheus } from '../helpers/prometheus';

const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const template = parse(read('deploy/kubernetes/deployment.yaml')).spec.template;
const instance = JSON.parse(template.metadata.annotations['ad.datadoghq.com/worker.checks']).openmetrics.instances[0];
const mapped = instance.metrics as (string | Record<string, string>)[];
const renamed = Object.assign({}, ...mapped.filter((m) => typeof m === 'object')) as Record<string, string>;
const imported = [...Object.keys(renamed), ...mapped.filter((m): m is string => typeof m === 'string')];

let text: string;
beforeAll(async () => {
  const port = await freePort();
  text = execFileSync(path.join(ROOT, 'node_modules/.bin/tsx'), ['test/helpers/print-metrics.ts', String(port)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
}, 90_000);

describe('the metrics endpoint', () => {
  it('parses under the OpenMetrics rules: typed families, counters ending in _total, valid samples', () => {
    expect(text).toContain('kandji_datadog_records_shipped');
    expect(openMetricsProblems(text)).toEqual([]);
  });

  it('every metric of ours is mapped by the Datadog Agent annotation, and every mapping names one of ours', () => {
    const ours = new Set(
      parsePrometheus(text)
        .map((s) => s.name)
        .filter((n) => n.startsWith('kandji_datadog_')),
    );
    expect(ours.size).toBeGreaterThanOrEqual(14);
    // Every metric the worker defines was recorded above (a new one not added to print-metrics fails here).
    const defined = Object.values(METRIC_NAMES).flatMap((n) => (typeof n === 'string' ? [n] : []));
    expect(defined.filter((n) => ![...ours].some((o) => o === n || o.startsWith(`${n}_`)))).toEqual([]);
    expect([...ours].filter((n) => !imported.includes(n))).toEqual([]);
    expect(Object.keys(renamed).filter((n) => !ours.has(n))).toEqual([]);
  });
});

describe('the Agent annotation', () => {
  it('imports only the temporal_* series the dashboard or a monitor uses (each one is a billed custom metric)', () => {
    const used = new Set<string>();
    for (const f of fs.readdirSync(path.join(ROOT, 'deploy/datadog')))
      for (const [, name] of read(`deploy/datadog/${f}`).matchAll(
        /kandji_datadog\.(temporal_[a-z_]+?)(?:\.(?:count|sum|bucket))?\{/g,
      ))
        used.add(name!);
    const temporal = imported.filter((n) => n.startsWith('temporal_'));
    expect(imported.every((n) => /^[a-z_]+$/.test(n))).toBe(true); // no pattern such as temporal_.*
    expect(temporal.sort()).toEqual([...used].sort());
  });

  it('tags each series with the pod (check_tag_cardinality orchestrator), so per-pod charts split', () => {
    expect(instance.check_tag_cardinality).toBe('orchestrator');
  });
});

describe('deploy/datadog', () => {
  const inDatadog = (name: string) => `kandji_datadog.${renamed[name] ?? name}`;
  const available = new Set(imported.map(inDatadog));
  const monitors = JSON.parse(read('deploy/datadog/monitors.json')) as { name: string; query: string }[];

  it('charts and monitors only metrics the annotation brings in', () => {
    for (const f of ['forwarder-health-dashboard.json', 'monitors.json'])
      for (const [, metric] of read(`deploy/datadog/${f}`).matchAll(
        /(kandji_datadog\.[a-z_.]+?)(?:\.(?:count|sum|bucket))?\{/g,
      ))
        expect([f, metric, available.has(metric!)]).toEqual([f, metric, true]);
  });

  it('has a monitor for lag, blocked and unavailable streams, streams not running, Temporal, dead letters, late resends, verify gaps', () => {
    const queries = monitors.map((m) => m.query).join('\n');
    expect(queries).toContain('kandji_datadog.stream.lag_seconds');
    for (const state of ['blocked', 'unavailable', 'not_running', 'unknown'])
      expect(queries).toContain(`state:${state}`);
    expect(queries).toContain('kandji_datadog.temporal.reachable');
    expect(queries).toContain('kandji_datadog.records.dead_lettered.count');
    expect(queries).toContain('kandji_datadog.records.late_resent.count');
    expect(queries).toContain('kandji_datadog.verify.hours.count{result:gap}');
  });

  it('pages no one for a tenant without EDR: behavioral detections unavailable is left out, blocked is not', () => {
    const states = monitors.find((m) => m.query.includes('state:blocked'))!.query;
    expect(states).toContain('{state:blocked OR (state:unavailable AND NOT stream:behavioral-detections)}');
  });
});
