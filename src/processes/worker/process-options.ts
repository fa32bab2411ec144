/**
 * Settings of the worker process itself (not of the streams): health and metrics endpoints, shutdown grace, and
 * where the prebuilt workflow bundle is. Validated like the rest of the configuration.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../config/config-error';
import { durationMs } from '../../config/edge-schemas';
import { withoutEmptyValues } from '../../config/env';

type Env = Record<string, string | undefined>;

/** Where `npm run build` writes the workflow bundle, relative to the compiled worker (dist/src/processes/worker/). */
export const DEFAULT_WORKFLOW_BUNDLE = path.resolve(__dirname, '../../../workflow-bundle.js');

export interface WorkerProcessOptions {
  /** Port of /livez and /readyz; 0 turns them off. */
  healthPort: number;
  /** Port of the Prometheus /metrics endpoint; 0 turns it off. */
  metricsPort: number;
  /** Address both endpoints listen on. */
  listenHost: string;
  /** How long the batch in flight may take to finish after SIGTERM before it is cancelled. */
  shutdownGraceMs: number;
  /** How often the worker reads each stream's status and the tenants' budgets for the lag/state/budget gauges. */
  metricsStatusIntervalMs: number;
  /** The prebuilt workflow bundle, when there is one (the compiled worker); else workflows are bundled at start. */
  workflowBundlePath?: string;
  /** Workflows kept in memory between their tasks (others are replayed from history when they wake). */
  maxCachedWorkflows: number;
}

const port = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name}: expected a port number (0 turns it off)` })
    .int(`${name}: expected a port number (0 turns it off)`)
    .min(0, `${name}: expected a port number (0 turns it off)`)
    .max(65_535, `${name}: expected a port number (0 turns it off)`)
    .default(fallback);

const duration = (name: string, fallback: string) => durationMs({ name }).prefault(fallback);

const schema = z.object({
  HEALTH_PORT: port('HEALTH_PORT', 8080),
  METRICS_PORT: port('METRICS_PORT', 9464),
  LISTEN_HOST: z.string().min(1).default('0.0.0.0'),
  WORKER_SHUTDOWN_GRACE: duration('WORKER_SHUTDOWN_GRACE', '25s'),
  // Each round describes every stream of every tenant (not billed): with hundreds of streams, more often costs CPU.
  METRICS_STATUS_INTERVAL: duration('METRICS_STATUS_INTERVAL', '60s'),
  // The streams that wake often: a caught-up stream waits in an activity and wakes at most hourly (then it is
  // replayed from its run's history), so the cache is for the streams shipping at the same time, not for all.
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number({ error: 'WORKER_MAX_CACHED_WORKFLOWS: expected a whole number, e.g. 100' })
    .int('WORKER_MAX_CACHED_WORKFLOWS: expected a whole number, e.g. 100')
    .min(2, 'WORKER_MAX_CACHED_WORKFLOWS: expected at least 2')
    .default(100),
  WORKFLOW_BUNDLE: z.string().min(1).optional(),
});

export function loadWorkerProcessOptions(env: Env = process.env): WorkerProcessOptions {
  const r = schema.safeParse(withoutEmptyValues(env));
  if (!r.success)
    throw new ConfigError(
      r.error.issues.map((i) => (i.message.includes(':') ? i.message : `${String(i.path[0])}: ${i.message}`)),
    );
  const c = r.data;
  const bundle = c.WORKFLOW_BUNDLE ?? (fs.existsSync(DEFAULT_WORKFLOW_BUNDLE) ? DEFAULT_WORKFLOW_BUNDLE : undefined);
  if (c.WORKFLOW_BUNDLE && !fs.existsSync(c.WORKFLOW_BUNDLE))
    throw new ConfigError([`WORKFLOW_BUNDLE: no such file: ${c.WORKFLOW_BUNDLE}`]);
  return {
    healthPort: c.HEALTH_PORT,
    metricsPort: c.METRICS_PORT,
    listenHost: c.LISTEN_HOST,
    shutdownGraceMs: c.WORKER_SHUTDOWN_GRACE,
    metricsStatusIntervalMs: Math.max(c.METRICS_STATUS_INTERVAL, 1_000),
    ...(bundle ? { workflowBundlePath: bundle } : {}),
    maxCachedWorkflows: c.WORKER_MAX_CACHED_WORKFLOWS,
  };
}
