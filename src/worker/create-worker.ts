/** Creates the Temporal worker that runs the stream workflows and their activities. */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import type { TemporalConfig } from '../config/env';
import { buildDataConverter } from '../temporal/data-converter';

export const WORKFLOWS_PATH = require.resolve('../../workflows');

export interface CreateWorkerOptions {
  temporal: TemporalConfig;
  deps: ActivityDeps;
  connection?: NativeConnection;
  /** Prebuilt workflow bundle (tests build one once); otherwise workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Override of the service's data converter (measurements only). */
  dataConverter?: WorkerOptions['dataConverter'];
  /** How long in-flight activities may finish on shutdown before they are cancelled. Default 20 s. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
}

export async function createWorker(opts: CreateWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = opts.connection ?? (await NativeConnection.connect({ address: opts.temporal.address }));
  const worker = await Worker.create({
    connection,
    namespace: opts.temporal.namespace,
    taskQueue: opts.temporal.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(opts.deps),
    dataConverter: opts.dataConverter ?? buildDataConverter(opts.temporal.encryptionKey),
    ...(opts.identity ? { identity: opts.identity } : {}),
    // Let the batch in flight finish on SIGTERM (Kubernetes gives 30 s by default).
    shutdownGraceTime: opts.shutdownGraceTime ?? '20s',
  });
  return { worker, connection };
}
