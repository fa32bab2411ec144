/** Workflow ids: one long-running workflow per tenant and stream. */
import type { StreamName } from '../../workflows/shared/stream-status';

export const STREAMS: readonly StreamName[] = ['audit', 'detections', 'threats'];

export function streamWorkflowId(tenant: string, stream: StreamName): string {
  return `kandji-datadog/${tenant}/${stream}`;
}
