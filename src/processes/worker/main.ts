/**
 * The worker process (`node dist/src/processes/worker/main.js`, or `npm run worker` in development): runs the stream
 * workflows and activities until SIGINT/SIGTERM, then lets the batch in flight finish (WORKER_SHUTDOWN_GRACE) and
 * exits 0. Serves /livez and /readyz (HEALTH_PORT) and Prometheus metrics (METRICS_PORT).
 */
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { buildActivityDeps } from './activity-deps';
import { watchApiKeyFile } from './api-key-rotation';
import { createWorker } from './create-worker';
import { activityMetricsInterceptor, instrumentClients } from './instrument';
import { loadWorkerProcessOptions } from './process-options';
import { workerRuntimeOptions } from './runtime-options';
import { streamWorkflowId } from '../../../workflows/shared/workflow-ids';
import { ConfigError } from '../../config/config-error';
import { loadDatadogReadConfig } from '../../config/datadog-read';
import { loadWorkerConfig } from '../../config/env';
import { CursorSightings } from '../../telemetry/cursor-sightings';
import { startHealthServer } from '../../telemetry/health-server';
import { createLogger } from '../../telemetry/logger';
import { meterMetrics } from '../../telemetry/metrics';
import { startStatusGauges, temporalStatusSource } from '../../telemetry/status-gauges';
import { connectionOptions, describeConnection } from '../../temporal/connection';
import { buildDataConverter } from '../../temporal/data-converter';

async function main(): Promise<void> {
  let config;
  let proc;
  let read;
  try {
    config = loadWorkerConfig();
    proc = loadWorkerProcessOptions();
    read = loadDatadogReadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Temporal Core's lines through our logger (JSON); its worker metrics and ours (src/telemetry/metrics.ts) on one
  // Prometheus endpoint.
  Runtime.install(
    workerRuntimeOptions(logger, {
      logLevel: config.logLevel,
      ...(proc.metricsPort ? { metricsAddress: `${proc.listenHost}:${proc.metricsPort}` } : {}),
    }),
  );
  const metrics = proc.metricsPort ? meterMetrics(Runtime.instance().metricMeter) : undefined;
  if (!read.on) logger.info(read.reason);
  const baseDeps = buildActivityDeps(config, logger, read, metrics?.budgetRemaining);
  const deps = metrics ? instrumentClients(baseDeps, metrics) : baseDeps;
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  const stopKeyWatch = config.temporal.apiKeyFile
    ? watchApiKeyFile({
        file: config.temporal.apiKeyFile,
        current: config.temporal.apiKey,
        setApiKey: (key) => connection.setApiKey(key),
        logger,
      })
    : undefined;
  // The cursors this process sees its stream workflows commit: the lag gauges, without a query.
  const sightings = new CursorSightings();
  const { worker } = await createWorker({
    temporal: config.temporal,
    deps: { ...deps, sightings },
    connection,
    ...(proc.workflowBundlePath ? { workflowBundle: { codePath: proc.workflowBundlePath } } : {}),
    shutdownGraceTime: proc.shutdownGraceMs,
    maxCachedWorkflows: proc.maxCachedWorkflows,
    sinks: sightings.sinks(),
    ...(metrics ? { interceptors: { activity: [activityMetricsInterceptor(metrics)] } } : {}),
  });
  const health = proc.healthPort
    ? await startHealthServer(
        {
          workerRunning: () => worker.workers.every((w) => w.getState() === 'RUNNING'),
          workerHealthy: () => worker.workers.every((w) => w.getState() !== 'FAILED'),
          temporalAnswers: () => connection.workflowService.getSystemInfo({}),
        },
        { port: proc.healthPort, host: proc.listenHost },
      )
    : undefined;
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: buildDataConverter(config.temporal.encryptionKeys ?? config.temporal.encryptionKey),
  });
  const stopGauges = metrics
    ? startStatusGauges({
        source: temporalStatusSource(client, (tenant, stream) => sightings.latest(streamWorkflowId(tenant, stream))),
        tenants: config.tenants.map((t) => t.config),
        metrics,
        intervalMs: proc.metricsStatusIntervalMs,
      })
    : undefined;
  logger.info(
    {
      temporal: {
        address: config.temporal.address,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        ...describeConnection(config.temporal),
      },
      payloadEncryption: config.temporal.encryptionKey !== undefined,
      tenants: config.tenants.map((t) => ({
        tenant: t.config.tenant,
        kandji: t.config.kandjiUrl,
        streams: t.config.streams,
      })),
      datadog: new URL(config.datadogIntakeUrl).origin,
      workflowBundle: proc.workflowBundlePath ?? 'bundled at start',
      health: health ? `:${health.port}` : 'off',
      metrics: proc.metricsPort ? `:${proc.metricsPort}` : 'off',
      shutdownGraceMs: proc.shutdownGraceMs,
    },
    'worker started',
  );
  // The SDK shuts the workers down on these signals too; this also tells the activities' long waits at once.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
  try {
    await worker.run();
  } finally {
    stopGauges?.();
    stopKeyWatch?.();
    await health?.close();
    await connection.close();
    await deps.close();
    logger.info('worker stopped');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
