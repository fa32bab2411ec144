/**
 * `npm run bench`: the service's speed and memory figures on this machine, on the real Temporal dev server with
 * the Kandji and Datadog simulators (the table in docs/performance.md is this output). Not a test: nothing here fails on a
 * figure; targets missed are marked.
 *   BENCH_EVENTS (100000), BENCH_DETECTIONS (1000000), BENCH_TENANTS (167), BENCH_PARTS (audit,idle,sweep,cost),
 *   BENCH_COST_WINDOW_MIN (30: the cost part's window per world, idle and busy), BENCH_COST_WARMUP_MIN (2: the
 *   warm-up before it; over 30 the request budget's leases are sized by a full LEASE_MS of requests, as in steady
 *   state), BENCH_COST_TENANTS (idle,busy: which worlds),
 *   BENCH_IDLE_SETTLE_S (120) and BENCH_IDLE_WINDOW_S (120): the idle part's settling time and window;
 *   BENCH_WORKER_MAX_CACHED_WORKFLOWS: the idle part's worker cache, if not the deployed default;
 *   BENCH_WORKER_NODE_OPTIONS, BENCH_WORKER_LOG: diagnostics of the measured worker (its Node flags, its log file).
 */
import os from 'node:os';
import { auditBacklog, type BacklogResult } from './bench/audit-backlog';
import { detectionsSweep, type SweepResult } from './bench/detections-sweep';
import { idleStreams, type IdleResult } from './bench/idle-streams';
import { tenantCost, type TenantCostResult } from './bench/tenant-cost';
import { startWorld } from './bench/world';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const parts = new Set((process.env.BENCH_PARTS ?? 'audit,idle,sweep,cost').split(','));
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
const mark = (ok: boolean) => (ok ? '' : ' ✗');
const say = (s = '') => process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const world = await startWorld();
  const backlogs: BacklogResult[] = [];
  let idle: IdleResult | undefined;
  let sweep: SweepResult | undefined;
  const costs: TenantCostResult[] = [];
  try {
    if (parts.has('audit')) {
      for (const latency of [
        { name: 'realistic (Kandji 150 ms, Datadog 80 ms)', kandjiMs: 150, datadogMs: 80 },
        { name: 'zero', kandjiMs: 0, datadogMs: 0 },
      ]) {
        process.stderr.write(`audit backlog, ${latency.name} latency…\n`);
        backlogs.push(await auditBacklog(world, latency, num('BENCH_EVENTS', 100_000)));
      }
    }
    if (parts.has('idle')) {
      process.stderr.write('idle streams…\n');
      idle = await idleStreams(
        world,
        num('BENCH_TENANTS', 167),
        num('BENCH_IDLE_WINDOW_S', 120) * 1000,
        num('BENCH_IDLE_SETTLE_S', 120) * 1000,
      );
    }
    if (parts.has('sweep')) {
      process.stderr.write('detections sweep…\n');
      sweep = await detectionsSweep(world, num('BENCH_DETECTIONS', 1_000_000));
    }
    if (parts.has('cost')) {
      const tenants = (process.env.BENCH_COST_TENANTS ?? 'idle,busy').split(',');
      for (const busy of [false, true].filter((b) => tenants.includes(b ? 'busy' : 'idle'))) {
        process.stderr.write(`cost of a ${busy ? 'busy' : 'idle'} tenant…\n`);
        const windowMs = num('BENCH_COST_WINDOW_MIN', 30) * 60_000;
        costs.push(await tenantCost(world, busy, windowMs, num('BENCH_COST_WARMUP_MIN', 2) * 60_000));
      }
    }
  } finally {
    await world.close();
  }

  say(
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${mb(os.totalmem())} RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  say();
  if (backlogs.length) {
    const events = backlogs[0]!.events;
    say(`| ${events.toLocaleString('en')}-event audit backlog | ${backlogs.map((b) => b.latency.name).join(' | ')} |`);
    say(`|---|${backlogs.map(() => '---').join('|')}|`);
    const row = (label: string, f: (b: BacklogResult) => string) =>
      say(`| ${label} | ${backlogs.map(f).join(' | ')} |`);
    row('plain loop, events/s', (b) => b.plainEventsPerSec.toFixed(0));
    row('kandji-datadog, events/s', (b) => b.productEventsPerSec.toFixed(0));
    row('ratio (target ≥ 1.0× realistic, ≥ 0.5× zero)', (b) => {
      const r = b.productEventsPerSec / b.plainEventsPerSec;
      return `${r.toFixed(2)}×${mark(r >= (b.latency.kandjiMs > 0 ? 1 : 0.5))}`;
    });
    row('worker CPU s per 100,000 events', (b) => b.workerCpuSecondsPer100k.toFixed(1));
    row(
      'history per 10,000 events (target ≤ 100 KB)',
      (b) => `${kb(b.historyBytesPer10k)}${mark(b.historyBytesPer10k <= 100 * 1024)}`,
    );
    row(
      'largest payload (target ≤ 256 KB)',
      (b) => `${b.largestPayloadBytes} B${mark(b.largestPayloadBytes <= 256 * 1024)}`,
    );
    row('Kandji requests per 100,000 events', (b) => b.kandjiRequestsPer100k.toFixed(0));
    row('Datadog requests per 100,000 events', (b) => b.datadogRequestsPer100k.toFixed(0));
    row('worker RSS while draining', (b) => mb(b.workerRssBytes));
    say();
  }
  if (idle) {
    say(`| ${idle.streams} idle-polling streams (${idle.tenants} tenants × ${idle.streams / idle.tenants}) | |`);
    say('|---|---|');
    say(`| worker RSS (target < 300 MB) | ${mb(idle.rssBytes)}${mark(idle.rssBytes < 300 * 1024 * 1024)} |`);
    say(`| worker CPU (target < 10% of a core) | ${idle.cpuPercent.toFixed(1)}%${mark(idle.cpuPercent < 10)} |`);
    say(`| worker RSS at its highest, while every stream started at once | ${mb(idle.startRssBytes)} |`);
    say();
  }
  if (sweep) {
    say(`| ${sweep.rows.toLocaleString('en')} live detections | |`);
    say('|---|---|');
    say(
      `| first sweep (ships every row) | ${sweep.firstSweepSec.toFixed(0)} s, ${sweep.shipped.toLocaleString('en')} shipped |`,
    );
    say(`| next sweep (nothing new) | ${sweep.secondSweepSec.toFixed(0)} s |`);
    say(`| state | ${sweep.chunks} chunks, ${mb(sweep.stateBytes)} of history in all |`);
    say(
      `| history per sweep | stream ${kb(sweep.streamHistoryBytesPerSweep)}, state chunks ${mb(sweep.chunkHistoryBytesPerSweep)} |`,
    );
    say(
      `| largest payload (target ≤ 256 KB) | ${sweep.largestPayloadBytes} B${mark(sweep.largestPayloadBytes <= 256 * 1024)} |`,
    );
    say(`| worker RSS during the sweeps | ${mb(sweep.workerRssBytes)} |`);
    say();
  }
  if (costs.length) printCosts(costs);
}

/** Per tenant per day, projected from the window: goals ≤ 2,000 actions and ≤ 1 MB idle, ≤ 4,000 and ≤ 10 MB busy. */
function printCosts(costs: TenantCostResult[]): void {
  const goal = (c: TenantCostResult) => (c.busy ? { actions: 4_000, mb: 10 } : { actions: 2_000, mb: 1 });
  const name = (c: TenantCostResult) => (c.busy ? 'busy (1 audit event/s)' : 'idle (no new event)');
  say(
    `| one tenant per day, 2 workers, default intervals (${costs[0]!.windowMs / 60_000} min window) | ${costs.map(name).join(' | ')} |`,
  );
  say(`|---|${costs.map(() => '---').join('|')}|`);
  const row = (label: string, f: (c: TenantCostResult) => string) => say(`| ${label} | ${costs.map(f).join(' | ')} |`);
  row('billable actions (goal ≤ 2,000 idle, ≤ 4,000 busy)', (c) => {
    const n = Math.round(c.actionsPerDay);
    return `${n.toLocaleString('en')}${mark(n <= goal(c).actions)}`;
  });
  const types = [...new Set(costs.flatMap((c) => Object.keys(c.actionsByType)))].sort();
  for (const t of types) row(`· ${t}`, (c) => Math.round(c.actionsByType[t] ?? 0).toLocaleString('en'));
  row('history written (goal ≤ 1 MB idle, ≤ 10 MB busy)', (c) => {
    const m = c.historyBytesPerDay / 1024 / 1024;
    return `${m.toFixed(1)} MB${mark(m <= goal(c).mb)}`;
  });
  row('audit events shipped in the window', (c) => c.shipped.toLocaleString('en'));
  say();
}

main().catch((err: unknown) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
