/**
 * Workflow history as the server stores it, read without any codec: every run of a continue-as-new chain,
 * walked back from the current run. Used to measure history size and to check that nothing is stored in plain text.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export async function rawHistories(client: Client, workflowId: string): Promise<Buffer[]> {
  const runs: Buffer[] = [];
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const events: temporal.api.history.v1.IHistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page: temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse =
        await client.workflowService.getWorkflowExecutionHistory({
          namespace: client.options.namespace,
          execution: { workflowId, runId },
          nextPageToken,
          maximumPageSize: 4, // pages of big payloads must stay under gRPC's 4 MB message limit
        });
      events.push(...(page.history?.events ?? []));
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    runs.unshift(Buffer.from(temporal.api.history.v1.History.encode({ events }).finish()));
    const previous: string | null | undefined =
      events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    runId = previous || undefined;
  }
  return runs;
}
