/** Workflow ids: one long-running workflow per tenant and stream. */
import type { StreamName } from '../../workflows/shared/stream-status';

/** Every stream, in the order status shows them (a tuple, so that zod can take it as an enum). */
export const STREAMS = [
  'audit',
  'detections',
  'threats',
  'behavioral-detections',
] as const satisfies readonly StreamName[];

export function streamWorkflowId(tenant: string, stream: StreamName): string {
  return `kandji-datadog/${tenant}/${stream}`;
}
