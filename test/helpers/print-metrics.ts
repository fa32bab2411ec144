/**
 * Prints what the worker's Prometheus endpoint serves after one of every metric of ours was recorded: the Runtime
 * installed with the worker's own options (src/processes/worker/runtime-options.ts). Run as a child process (a process holds
 * one Runtime): `tsx test/helpers/print-metrics.ts <port>`.
 */
import { Runtime } from '@temporalio/worker';
import { workerRuntimeOptions } from '../../src/processes/worker/runtime-options';
import { createLogger } from '../../src/telemetry/logger';
import { GAUGE_STATES, meterMetrics, RECORD_OUTCOMES } from '../../src/telemetry/metrics';

async function main(): Promise<void> {
  const address = `127.0.0.1:${process.argv[2]}`;
  Runtime.install(workerRuntimeOptions(createLogger('info'), { logLevel: 'info', metricsAddress: address }));
  const m = meterMetrics(Runtime.instance().metricMeter);
  for (const outcome of RECORD_OUTCOMES) m.records('acme', 'audit', outcome, 1);
  m.state('acme', 'audit', GAUGE_STATES[0]!);
  m.lag('acme', 'audit', 12);
  m.lag('acme', 'detections', NaN);
  m.temporalReachable(true);
  m.lateSweepParked('acme', 'audit', 0);
  m.kandjiRequest('acme', 'audit', '200');
  m.budgetRemaining('acme', 4_000);
  m.datadogRequest('acme', 'audit', '202', 1_000);
  m.verifiedHour('acme', 'audit', 'verified');
  m.recordsMissing('acme', 'audit', 'lost', 1);
  // The exporter reads the meter when scraped; give the native side a moment to take the values in.
  for (let i = 0; i < 50; i++) {
    const text = await (await fetch(`http://${address}/metrics`)).text();
    if (text.includes('kandji_datadog_kandji_budget_remaining')) {
      process.stdout.write(text);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the metrics never showed');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
