/**
 * The Kandji row a Datadog log of a snapshot stream was shipped from, rebuilt from what the Logs Search API gives
 * back, so that `verify` can tell which rows Datadog holds by their version key (record-identity.ts versionKey).
 *
 * What we add to a row on its way out is taken off again: the intake keys (`ddsource`, `service`, `ddtags`,
 * `hostname`: log-items.ts RESERVED_KEYS), our own `timestamp` on streams dated by a field of their own (DATED_BY:
 * behavioral detections), and what `restamp` did to a stale row (stale-events.ts): the original time, kept under
 * `kandji_datadog_original_time: { field, value }`, goes back into its field and the key goes. Datadog hoists a
 * log's `message` out of its attributes: it is put back when the attributes lack it and the log has one.
 *
 * What cannot be rebuilt: a row we trimmed to fit Datadog's 1 MB (trim-oversized.ts) no longer hashes as it did,
 * so only a row identified by its whole content (`row:<hash>`) would then read as missing. Pure functions.
 */
import { VERSION_FIELD, WHOLE_ROW_IDENTITY_PREFIX, recordIdentity, versionKey } from './record-identity';
import type { SnapshotStreamName } from '../../workflows/shared/stream-status';
import { DATED_BY, RESERVED_KEYS, TIMESTAMP_KEY } from '../datadog/log-items';
import { ORIGINAL_TIME_ATTRIBUTE } from '../datadog/stale-events';

/** A log as the Search API lists it: its custom attributes (`attributes.attributes`) and its `message`. */
export interface ListedLog {
  attributes: Record<string, unknown>;
  message?: string;
}

/** The row a log of `stream` was shipped from (a copy; the log is not changed). */
export function recordOfLog(stream: SnapshotStreamName, log: ListedLog): Record<string, unknown> {
  const record: Record<string, unknown> = { ...log.attributes };
  for (const key of RESERVED_KEYS) delete record[key];
  if (DATED_BY[stream]) delete record[TIMESTAMP_KEY];
  const original = record[ORIGINAL_TIME_ATTRIBUTE] as { field?: unknown; value?: unknown } | undefined;
  if (original && typeof original === 'object' && typeof original.field === 'string')
    record[original.field] = original.value;
  delete record[ORIGINAL_TIME_ATTRIBUTE];
  if (record.message === undefined && typeof log.message === 'string' && log.message !== '')
    record.message = log.message;
  return record;
}

/**
 * What a log of `stream` says of the row it was shipped from: its version key (what the sweep fingerprinted when it
 * shipped it) — or, when the log lacks the stream's version field, only the row's identity (`anyVersion`). Datadog
 * reads a threat's `status` as the log's level, and may not keep the value among the attributes: such a log proves
 * that some version of the row arrived, not which.
 */
export function keyOfLog(stream: SnapshotStreamName, log: ListedLog): { key: string; anyVersion: boolean } {
  const record = recordOfLog(stream, log);
  const field = VERSION_FIELD[stream];
  const id = recordIdentity(stream, record);
  if (field && record[field] === undefined && !id.startsWith(WHOLE_ROW_IDENTITY_PREFIX))
    return { key: id, anyVersion: true };
  return { key: versionKey(stream, record), anyVersion: false };
}

/** The version key of the row a log of `stream` was shipped from: what the sweep fingerprinted when it shipped it. */
export function versionKeyOfLog(stream: SnapshotStreamName, log: ListedLog): string {
  return versionKey(stream, recordOfLog(stream, log));
}
