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
import { versionKey } from './record-identity';
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

/** The version key of the row a log of `stream` was shipped from: what the sweep fingerprinted when it shipped it. */
export function versionKeyOfLog(stream: SnapshotStreamName, log: ListedLog): string {
  return versionKey(stream, recordOfLog(stream, log));
}
