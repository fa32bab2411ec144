/**
 * Every workflow id of the service, built and read in one place. All start with `kandji-datadog/<tenant>/`, so one
 * visibility query (`WorkflowId STARTS_WITH "kandji-datadog/"`) lists them:
 * - a stream: `kandji-datadog/<tenant>/<stream>`;
 * - a stream's audit backfill: `<stream id>/bf-<id>`; its verify runs: `<stream id>/verify`;
 * - a chunk of a snapshot stream's state: `<stream id>/state/<generation>/<index>`;
 * - a tenant's request budget: `kandji-datadog/<tenant>/request-budget`.
 * Pure: workflows, activities and processes use it alike.
 */
import { STREAMS, type StreamName } from './stream-status';

export const WORKFLOW_ID_PREFIX = 'kandji-datadog';

export function streamWorkflowId(tenant: string, stream: StreamName): string {
  return `${WORKFLOW_ID_PREFIX}/${tenant}/${stream}`;
}

export function backfillWorkflowId(streamId: string, backfillId: string): string {
  return `${streamId}/${backfillId}`;
}

export function verifyWorkflowId(tenant: string, stream: StreamName = 'audit'): string {
  return `${streamWorkflowId(tenant, stream)}/verify`;
}

export function chunkWorkflowId(streamId: string, generation: string, index: number): string {
  return `${streamId}/state/${generation}/${index}`;
}

export function budgetWorkflowId(tenant: string): string {
  return `${WORKFLOW_ID_PREFIX}/${tenant}/request-budget`;
}

/** What an id names: its tenant, its stream when it is one's (or one's backfill, verify, state), and the rest. */
export function parseWorkflowId(id: string): { tenant: string; stream?: StreamName; rest: string[] } | undefined {
  const [prefix, tenant, second, ...rest] = id.split('/');
  if (prefix !== WORKFLOW_ID_PREFIX || !tenant || second === undefined) return undefined;
  const stream = (STREAMS as readonly string[]).includes(second) ? (second as StreamName) : undefined;
  return { tenant, ...(stream ? { stream } : {}), rest: stream ? rest : [second, ...rest] };
}
