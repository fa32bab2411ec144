/** `npm run worker`: runs a worker in the foreground until SIGINT/SIGTERM. */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { ConfigError, loadWorkerConfig } from '../config/env';
import { createLogger } from '../telemetry/logger';
import { buildActivityDeps } from './activity-deps';
import { createWorker } from './create-worker';

async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const sdkLevel: LogLevel = config.logLevel === 'debug' || config.logLevel === 'trace' ? 'DEBUG' : 'INFO';
  Runtime.install({
    logger: new DefaultLogger(sdkLevel, (entry) => {
      const level = entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      logger[level]({ ...entry.meta, sdk: true }, entry.message);
    }),
  });
  const deps = buildActivityDeps(config, logger);
  const { worker, connection } = await createWorker({ temporal: config.temporal, deps });
  logger.info(
    {
      temporal: { address: config.temporal.address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue },
      payloadEncryption: config.temporal.encryptionKey !== undefined,
      tenants: config.tenants.map((t) => ({ tenant: t.stream.tenant, kandji: t.stream.kandjiUrl, streams: t.stream.streams })),
      datadog: new URL(config.datadogIntakeUrl).origin,
    },
    'worker started',
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
    await deps.close();
    logger.info('worker stopped');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
