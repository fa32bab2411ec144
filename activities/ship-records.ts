/**
 * Activity: ship Kandji records to Datadog as log items.
 * - records over 1 MB are trimmed (largest fields first) rather than truncated by Datadog;
 * - records past Datadog's 18-hour window follow the stream's stale policy (ship / restamp / drop;
 *   DD_STALE_EVENTS_<STREAM>, the tenants file's `staleEvents`, DD_STALE_EVENTS; detections default to restamp);
 * - batches stay within the intake limits; a 413 halves a batch; a 400 is bisected to the rejected record(s),
 *   which are dead-lettered (logged with their identity and counted) while the rest ship — only when Datadog took
 *   other records of the batch; a systemic refusal blocks the stream instead (src/datadog/shipper.ts);
 * - progress is heartbeated after every request, so a retry after a crash does not resend what Datadog took; after
 *   a systemic refusal it is kept in this worker, so the next attempt at the same records resumes from it too.
 *   Progress holds only for the records it was made on: a retry given other records (a page read again that
 *   changed) ships what is not provably shipped, i.e. all of them when the change lies before the resume point.
 */
import type { Context } from '@temporalio/activity';
import { activityLogger } from './activity-logger';
import { tenantDeps, type ActivityDeps } from './deps';
import { withTypedFailures } from './failures';
import { DATED_BY, SERVICE_OF_STREAM, toLogItem } from '../src/datadog/log-items';
import {
  DatadogRefusedAll,
  emptyProgress,
  identityDigest,
  shipItems,
  type DeadLetter,
  type ShipItemsOptions,
  type ShipProgress,
} from '../src/datadog/shipper';
import { isStale, restamp, stalePolicyFor } from '../src/datadog/stale-events';
import { MAX_LOG_BYTES, trimOversized } from '../src/datadog/trim-oversized';
import { recordIdentity } from '../src/streams/record-identity';
import type { StreamName } from '../workflows/shared/stream-status';

export interface ShipRecordsInput {
  tenant: string;
  stream: StreamName;
  records: Record<string, unknown>[];
}

export interface ShipRecordsResult {
  shipped: number;
  /** Intake requests that Datadog accepted. */
  batches: number;
  /** Records Datadog refused (400) even alone: logged with their identity, not shipped (the first few). */
  deadLetters: DeadLetter[];
  /** How many records were dead-lettered in all. */
  deadLettered: number;
  /** Records older than Datadog's 18-hour window, and what was done with them. */
  stale: { count: number; policy: 'ship' | 'restamp' | 'drop' };
  /** Records trimmed to fit Datadog's 1 MB per log. */
  trimmed: number;
}

/** Streams already warned about stale events, per worker process: the warning is once per stream. */
const warnedStale = new Set<string>();

/**
 * Progress of shipments stopped by a systemic refusal, by tenant, stream and the identities shipped: the next
 * attempt at the same records (a new activity after the stream's re-check: no heartbeat to resume from) starts
 * where that one stopped and re-sends nothing Datadog took. Per worker process, a few entries.
 */
const stoppedShipments = new Map<string, ShipProgress>();
const MAX_STOPPED_SHIPMENTS = 64;

function shipmentKey(tenant: string, stream: string, identities: readonly string[]): string {
  return `${tenant}/${stream}/${identityDigest(identities)}`;
}

/**
 * What the calling activity gives shipRecords: the heartbeat progress to resume from and to report, the signal that
 * aborts its Datadog requests, and its attempt number (for the retry backoff).
 */
export interface ShipRecordsOptions {
  /** Progress of an earlier attempt to resume from (heartbeat details). */
  resume?: ShipProgress;
  /** Called with the progress to resume from after every request that settled records (to heartbeat it). */
  onBatchDone?: (progress: ShipProgress) => void;
  signal?: AbortSignal;
  attempt?: number;
}

/**
 * The options of an activity that ships: resume from `resume` (its heartbeat, by default), heartbeat the progress,
 * abort on the activity's cancellation, back off by its attempt.
 */
export function activityShipOptions(
  ctx: Context,
  resume: ShipProgress | undefined = ctx.info.heartbeatDetails as ShipProgress | undefined,
): ShipRecordsOptions {
  return { resume, onBatchDone: (p) => ctx.heartbeat(p), signal: ctx.cancellationSignal, attempt: ctx.info.attempt };
}

/**
 * The progress callback, but not for the request that settles the whole list: the activity completes right after
 * it, and a heartbeat is a billed action (one per busy minute of the audit stream). A crash in between repeats the
 * list at worst; every other request's progress is kept as before.
 */
function heartbeatUnlessSettled(
  identities: readonly string[],
  onBatchDone: (progress: ShipProgress) => void,
): (progress: ShipProgress) => void {
  return (p) => {
    const settledAll = identities.length > 0 && p.doneIdentity === identities[identities.length - 1];
    if (settledAll && (p.open?.unproven.length ?? 0) === 0) return; // no refused record waits to be judged
    onBatchDone(p);
  };
}

/** Ships records of one stream; used by the audit ship activities and by snapshot sweeps. */
export async function shipRecords(
  deps: ActivityDeps,
  input: ShipRecordsInput,
  opts: ShipRecordsOptions = {},
): Promise<ShipRecordsResult> {
  const log = activityLogger(deps, { tenant: input.tenant, stream: input.stream });
  const { toSend, stale, policy } = applyStalePolicy(deps, input, log);
  const { items, serialised, trimmed } = toLogItems(deps, input, toSend, log);
  const identities = toSend.map((r) => recordIdentity(input.stream, r));
  const progress = await shipResumably(deps, input, { items, serialised, identities }, opts, log);
  const deadLettered = progress.deadLettered ?? progress.deadLetters.length;
  log.info(
    { shipped: progress.accepted, requests: progress.requests, deadLetters: deadLettered },
    'shipped to Datadog',
  );
  return {
    shipped: progress.accepted,
    batches: progress.requests,
    deadLetters: progress.deadLetters,
    deadLettered,
    stale: { count: stale, policy },
    trimmed,
  };
}

type Log = ReturnType<typeof activityLogger>;

/** The records to send once past Datadog's 18-hour window are shipped, restamped or dropped (the stream's policy). */
function applyStalePolicy(deps: ActivityDeps, input: ShipRecordsInput, log: Log) {
  const tenant = tenantDeps(deps, input.tenant);
  const now = deps.now?.() ?? Date.now();
  const policy = stalePolicyFor(input.stream, tenant.stalePolicies, deps.stalePolicies, deps.stalePolicy);
  const stale = new Set(input.records.filter((r) => isStale(r, now, input.stream)));
  const key = `${input.tenant}/${input.stream}`;
  if (stale.size > 0 && !warnedStale.has(key)) {
    warnedStale.add(key);
    log.warn(
      { count: stale.size, policy, first: recordIdentity(input.stream, stale.values().next().value!) },
      `events older than 18 h: Datadog drops these at intake (DD_STALE_EVENTS_${input.stream.toUpperCase().replace(/-/g, '_')} or DD_STALE_EVENTS decides: ship, restamp or drop)`,
    );
  }
  const toSend = input.records
    .filter((r) => !(policy === 'drop' && stale.has(r)))
    .map((r) => (policy === 'restamp' && stale.has(r) ? restamp(r, now, input.stream) : r));
  return { toSend, stale: stale.size, policy };
}

/** The records as Datadog log items, each serialised once; one over 1 MB has its largest fields trimmed. */
function toLogItems(deps: ActivityDeps, input: ShipRecordsInput, records: Record<string, unknown>[], log: Log) {
  const tenant = tenantDeps(deps, input.tenant);
  const ddtags = `${tenant.ddtags},stream:${input.stream}`;
  let trimmed = 0;
  const serialised: string[] = [];
  const items = records.map((r) => {
    const item = toLogItem(r, {
      service: SERVICE_OF_STREAM[input.stream],
      ddtags,
      hostname: tenant.hostname,
      datedBy: DATED_BY[input.stream],
    });
    const json = JSON.stringify(item);
    // Only a log that may be over 1 MB (a UTF-16 unit is at most 3 bytes of UTF-8) is measured.
    const result =
      json.length * 3 > MAX_LOG_BYTES && Buffer.byteLength(json) > MAX_LOG_BYTES
        ? trimOversized(item, { protectedKeys: PROTECTED_KEYS })
        : undefined;
    if (!result?.report) {
      serialised.push(json);
      return result?.item ?? item;
    }
    trimmed += 1;
    log.warn(
      { identity: recordIdentity(input.stream, r), ...result.report },
      'record over 1 MB: trimmed its largest fields',
    );
    serialised.push(JSON.stringify(result.item));
    return result.item;
  });
  return { items, serialised, trimmed };
}

/**
 * Ships the items from the progress to resume from: the heartbeat's, else that of this worker's last attempt at the
 * same records stopped by a systemic refusal (kept again when this one is stopped the same way).
 */
async function shipResumably(
  deps: ActivityDeps,
  input: ShipRecordsInput,
  list: { items: Record<string, unknown>[]; serialised: string[]; identities: string[] },
  opts: ShipRecordsOptions,
  log: Log,
): Promise<ShipProgress> {
  const datadog = tenantDeps(deps, input.tenant).datadog ?? deps.datadog;
  const { identities } = list;
  const key = shipmentKey(input.tenant, input.stream, identities);
  const start = opts.resume ?? stoppedShipments.get(key) ?? emptyProgress();
  stoppedShipments.delete(key);
  const options: ShipItemsOptions = {
    send: (body) => datadog.send(body, opts.signal),
    onProgress: opts.onBatchDone && heartbeatUnlessSettled(identities, opts.onBatchDone),
    serialised: list.serialised,
    onListChanged: (accepted) =>
      log.warn(
        { accepted, count: identities.length },
        'these records are not those an earlier attempt shipped part of (read again, they changed): shipping them all again; Datadog may hold some twice',
      ),
    onDeadLetter: (dl) =>
      log.error(
        { identity: dl.identity, status: dl.status, reason: dl.reason },
        'Datadog refused a record; dead-lettered',
      ),
  };
  return withTypedFailures(async () => {
    try {
      return await shipItems(list.items, identities, options, start);
    } catch (err) {
      if (err instanceof DatadogRefusedAll) {
        log.error(
          { status: err.status, accepted: start.accepted, reason: err.message },
          'Datadog refuses everything: the stream is blocked until it takes records again',
        );
        if (stoppedShipments.size >= MAX_STOPPED_SHIPMENTS)
          stoppedShipments.delete(stoppedShipments.keys().next().value!);
        stoppedShipments.set(key, start);
      }
      throw err;
    }
  }, opts.attempt);
}

/** Fields never trimmed: identity, time and routing of every stream. */
const PROTECTED_KEYS = [
  'id',
  'occurred_at',
  'device_id',
  'bundle_id',
  'cve_id',
  'detection_datetime',
  'file_hash',
  'detection_date',
  'status',
  'ddsource',
  'service',
  'ddtags',
  'hostname',
  'timestamp',
  'threat_status',
];
