/** Creates the Temporal workers that run the stream workflows and their activities. */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { WorkerGroup } from './worker-group';
import { createActivities, type ActivityDeps } from '../../../activities';
import type { TemporalConfig } from '../../config/env';
import { CursorSightings } from '../../telemetry/cursor-sightings';
import { buildDataConverter } from '../../temporal/data-converter';

export const WORKFLOWS_PATH = require.resolve('../../../workflows');

export interface CreateWorkerOptions {
  temporal: TemporalConfig;
  deps: ActivityDeps;
  connection?: NativeConnection;
  /** Prebuilt workflow bundle (tests build one once); otherwise workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Override of the service's data converter (measurements only). */
  dataConverter?: WorkerOptions['dataConverter'];
  /** Workflows kept in memory between tasks (default: the SDK's, sized from the heap). */
  maxCachedWorkflows?: number;
  /** How long in-flight activities may finish on shutdown before they are cancelled. Default 20 s. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** Worker interceptors (the worker process adds its activity metrics here). */
  interceptors?: WorkerOptions['interceptors'];
  /** Workflow sinks (the worker process records the cursors its stream workflows commit, for the lag gauges). */
  sinks?: WorkerOptions['sinks'];
}

export async function createWorker(
  opts: CreateWorkerOptions,
): Promise<{ worker: WorkerGroup; connection: NativeConnection }> {
  const connection = opts.connection ?? (await NativeConnection.connect({ address: opts.temporal.address }));
  const shuttingDown = new AbortController();
  const activities = createActivities({ ...opts.deps, shuttingDown: opts.deps.shuttingDown ?? shuttingDown.signal });
  const common = {
    connection,
    namespace: opts.temporal.namespace,
    activities,
    dataConverter:
      opts.dataConverter ?? buildDataConverter(opts.temporal.encryptionKeys ?? opts.temporal.encryptionKey),
    ...(opts.identity ? { identity: opts.identity } : {}),
    // Let the batch in flight finish on SIGTERM (Kubernetes gives 30 s by default).
    shutdownGraceTime: opts.shutdownGraceTime ?? '20s',
    ...(opts.interceptors ? { interceptors: opts.interceptors } : {}),
  };
  const main = await Worker.create({
    ...common,
    taskQueue: opts.temporal.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...(opts.maxCachedWorkflows ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    // Each tenant's audit stream may hold one activity slot while it is caught up (its idle poll, see
    // activities/await-audit-page.ts): room for those beside the SDK's default 100 for everything else.
    maxConcurrentActivityTaskExecutions: 100 + opts.deps.tenants.size,
    // Always the stream workflows' own sinks (a call to one no worker registered is logged as an error).
    sinks: opts.sinks ?? new CursorSightings().sinks(),
  });
  // Activities only: the ships of pages this process holds. Many streams may ship at once, each a page.
  const own = opts.deps.workerQueue
    ? await Worker.create({ ...common, taskQueue: opts.deps.workerQueue, maxConcurrentActivityTaskExecutions: 200 })
    : undefined;
  return { worker: new WorkerGroup(main, own, shuttingDown), connection };
}
