/** What every benchmark part shares: the dev server, the prebuilt workflow bundle, a client, worker environments. */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadTenantConfig, type TemporalConfig } from '../../src/config/env';
import { WORKFLOWS_PATH } from '../../src/processes/worker/create-worker';
import { connectClient } from '../../src/temporal/client';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';

export const TOKEN = 'bench-kandji-token-0123456789';
export const API_KEY = 'bench-dd-api-key-0123456789';

export interface World {
  server: DevServer;
  client: Client;
  bundlePath: string;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  // The worker runs as the image runs it: compiled (`npm run build`), with a prebuilt workflow bundle.
  execFileSync('npm', ['run', '-s', 'build'], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const server = await startDevServer();
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  const bundlePath = path.join(os.tmpdir(), `kandji-datadog-bench-${process.pid}.js`);
  fs.writeFileSync(bundlePath, code);
  const client = await connectClient({ address: server.address, namespace: 'default', taskQueue: 'unused' });
  return {
    server,
    client,
    bundlePath,
    close: async () => {
      await client.connection.close();
      await server.stop();
      fs.rmSync(bundlePath, { force: true });
    },
  };
}

/** Environment of a worker (and the tenant's config the starter uses) for one benchmark part. */
export function workerEnv(world: World, kandjiUrl: string, intakeUrl: string, extra: Record<string, string> = {}) {
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: world.server.address,
    TEMPORAL_TASK_QUEUE: `bench-${randomUUID().slice(0, 8)}`,
    KANDJI_API_URL: kandjiUrl,
    KANDJI_API_TOKEN: TOKEN,
    KANDJI_TENANT: `bench-${randomUUID().slice(0, 6)}`,
    KANDJI_REQUESTS_PER_HOUR: '10000',
    DD_API_KEY: API_KEY,
    DD_LOGS_URL: intakeUrl,
    WORKFLOW_BUNDLE: world.bundlePath,
    // Metrics on as deployed, on a port of its own; no health endpoint.
    METRICS_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
    HEALTH_PORT: '0',
    ...extra,
  };
  const temporal: TemporalConfig = {
    address: env.TEMPORAL_ADDRESS!,
    namespace: 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE!,
  };
  return { env, temporal, tenant: loadTenantConfig(env) };
}

export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`benchmark: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
