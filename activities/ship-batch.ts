/**
 * Activity: ship Kandji records to Datadog as log items. Splits them into intake-sized batches, halves a batch
 * Datadog answers 413 to, and remembers (in heartbeats) how many batches went out, so a retry does not resend them.
 */
import { Context } from '@temporalio/activity';
import { halve, splitIntoBatches, type Batch } from '../src/datadog/batches';
import { SERVICE_OF_STREAM, toLogItem } from '../src/datadog/log-items';
import { RemoteError } from '../src/remote-errors';
import type { StreamName } from '../workflows/stream-status';
import { tenantDeps, type ActivityDeps } from './deps';
import { withTypedFailures } from './failures';

export interface ShipBatchInput {
  tenant: string;
  stream: StreamName;
  records: Record<string, unknown>[];
}

export interface ShipBatchResult {
  shipped: number;
  /** Intake requests that Datadog accepted. */
  batches: number;
}

interface ShipProgress {
  batchesDone: number;
  shipped: number;
  requests: number;
}

export function shipBatchActivity(deps: ActivityDeps) {
  return async function shipBatch(input: ShipBatchInput): Promise<ShipBatchResult> {
    const tenant = tenantDeps(deps, input.tenant);
    const ctx = Context.current();
    const items = input.records.map((r) =>
      toLogItem(r, {
        service: SERVICE_OF_STREAM[input.stream],
        ddtags: `${tenant.ddtags},stream:${input.stream}`,
        hostname: tenant.hostname,
      }),
    );
    const batches = splitIntoBatches(items);
    const progress: ShipProgress = (ctx.info.heartbeatDetails as ShipProgress | undefined) ?? {
      batchesDone: 0,
      shipped: 0,
      requests: 0,
    };

    const sendSplittingOn413 = async (batch: Batch): Promise<void> => {
      try {
        await deps.datadog.send(batch.body, ctx.cancellationSignal);
        progress.requests += 1;
      } catch (err) {
        const halves = err instanceof RemoteError && err.kind === 'too_large' ? halve(batch) : undefined;
        if (!halves) throw err;
        deps.logger.warn({ tenant: input.tenant, stream: input.stream, count: batch.count }, 'Datadog answered 413; splitting the batch');
        await sendSplittingOn413(halves[0]);
        await sendSplittingOn413(halves[1]);
      }
    };

    return withTypedFailures(async () => {
      for (let i = progress.batchesDone; i < batches.length; i++) {
        const batch = batches[i]!;
        await sendSplittingOn413(batch);
        progress.batchesDone = i + 1;
        progress.shipped += batch.count;
        ctx.heartbeat(progress);
      }
      deps.logger.info(
        { tenant: input.tenant, stream: input.stream, shipped: progress.shipped, requests: progress.requests },
        'shipped to Datadog',
      );
      return { shipped: progress.shipped, batches: progress.requests };
    });
  };
}
