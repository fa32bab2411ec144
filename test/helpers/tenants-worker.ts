/** A worker serving the tenants of a tenants file, as `npm run worker` builds it, for multi-tenant tests. */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { workflowBundle } from './harness';
import { waitFor } from './wait';
import { loadWorkerConfig, type WorkerConfig } from '../../src/config/env';
import { buildActivityDeps } from '../../src/processes/worker/activity-deps';
import { createWorker } from '../../src/processes/worker/create-worker';
import { startStream, streamReport } from '../../src/streams/stream-control';
import { createLogger } from '../../src/telemetry/logger';
import { connectClient } from '../../src/temporal/client';
import type { StreamStatus } from '../../workflows/shared/stream-status';

export interface TenantsWorker {
  config: WorkerConfig;
  client: Client;
  /** Starts every tenant's audit stream at `since`. */
  startAudits(since: string): Promise<void>;
  /** Waits until a tenant's audit stream reports `state`. */
  waitForAudit(tenant: string, state: StreamStatus['state'], timeoutMs?: number): Promise<StreamStatus>;
  /** Terminates the streams, stops the worker, closes every connection. */
  close(): Promise<void>;
}

export async function startTenantsWorker(env: Record<string, string | undefined>): Promise<TenantsWorker> {
  const config = loadWorkerConfig({
    TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS,
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    KANDJI_AUTH_RECHECK_INTERVAL: '2s',
    ...env,
  });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const deps = buildActivityDeps(config, createLogger('silent'));
  const { worker } = await createWorker({
    temporal: config.temporal,
    deps,
    connection,
    workflowBundle: await workflowBundle(),
  });
  const client = await connectClient(config.temporal);
  const running = worker.run();
  return {
    config,
    client,
    async startAudits(since) {
      for (const t of config.tenants) await startStream(client, config.temporal, t.config, 'audit', since);
    },
    waitForAudit: (tenant, state, timeoutMs = 30_000) =>
      waitFor(
        `${tenant} ${state}`,
        async () => {
          const s = (await streamReport(client, tenant, 'audit')).status;
          return s?.state === state ? s : undefined;
        },
        timeoutMs,
      ),
    async close() {
      for (const t of config.tenants) {
        await client.workflow
          .getHandle(`kandji-datadog/${t.config.tenant}/audit`)
          .terminate('test over')
          .catch(() => undefined);
      }
      worker.shutdown();
      await running;
      await deps.close();
      await client.connection.close();
      await connection.close();
    },
  };
}
