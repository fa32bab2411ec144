/** The task queue of one worker process alone: the service's queue, the host, the process and a random part. */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

export function workerQueueName(taskQueue: string): string {
  return `${taskQueue}/w/${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
}
