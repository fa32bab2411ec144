/**
 * A record's identity, used for dead letters, logs and the snapshot streams' "seen" sets.
 * - audit: its `id`;
 * - detections: `device_id|bundle_id|cve_id` (Kandji gives detections no id; Datadog's pipeline builds its finding
 *   uid from the same three fields; a null bundle_id counts as empty);
 * - threats: `device_id|file_hash|detection_date` (one file can be detected again on the same device later);
 * - behavioral detections: their `id` (a UUID).
 *
 * A snapshot row whose identity fields are missing or empty (a detection without `device_id` or `cve_id`, a threat
 * without any of its three) would share one identity with every other such row, and only the first would ever ship.
 * Such a row is identified by a hash of the whole row instead (`row:<sha-256 of its stable JSON>`): each distinct row
 * ships once, and one that changes in any field counts as a new row.
 */
import { createHash } from 'node:crypto';
import type { SnapshotStreamName, StreamName } from '../../workflows/shared/stream-status';

const part = (v: unknown) => (v === null || v === undefined ? '' : String(v));

/** Prefix of the identities of rows whose identity fields are missing or empty. */
export const WHOLE_ROW_IDENTITY_PREFIX = 'row:';

/** Fields a snapshot row must have non-empty for its identity to be built from them. */
const REQUIRED: Record<SnapshotStreamName, readonly string[]> = {
  detections: ['device_id', 'cve_id'], // bundle_id is null for OS-level findings
  threats: ['device_id', 'file_hash', 'detection_date'],
  'behavioral-detections': ['id'],
};

/** The field whose change ships a snapshot row again (a status change), per stream that has one. */
export const VERSION_FIELD: Partial<Record<SnapshotStreamName, string>> = {
  threats: 'status',
  'behavioral-detections': 'threat_status',
};

/** JSON with object keys sorted at every level: the same row gives the same text whatever its key order. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(record[k])}`).join(',')}}`;
}

/** True when a snapshot row lacks an identity field, so that it is identified by its whole content. */
export function lacksIdentity(stream: SnapshotStreamName, row: object): boolean {
  const record = row as Record<string, unknown>;
  return REQUIRED[stream].some((field) => part(record[field]).trim() === '');
}

function wholeRowIdentity(row: object): string {
  return WHOLE_ROW_IDENTITY_PREFIX + createHash('sha256').update(stableJson(row)).digest('hex').slice(0, 32);
}

export function recordIdentity(stream: StreamName, row: object): string {
  const record = row as Record<string, unknown>;
  switch (stream) {
    case 'audit':
      return part(record.id);
    case 'detections':
      if (lacksIdentity(stream, record)) return wholeRowIdentity(record);
      return `${part(record.device_id)}|${part(record.bundle_id)}|${part(record.cve_id)}`;
    case 'threats':
      if (lacksIdentity(stream, record)) return wholeRowIdentity(record);
      return `${part(record.device_id)}|${part(record.file_hash)}|${part(record.detection_date)}`;
    case 'behavioral-detections':
      if (lacksIdentity(stream, record)) return wholeRowIdentity(record);
      return part(record.id);
  }
}

/**
 * What makes a snapshot row worth shipping again: a detection only when it (re)appears; a threat also when its
 * status changes (QUARANTINED → RELEASED, …), a behavioral detection when its `threat_status` does. A row identified
 * by its whole content already includes its status.
 */
export function versionKey(stream: SnapshotStreamName, row: object): string {
  const record = row as Record<string, unknown>;
  const id = recordIdentity(stream, record);
  const field = VERSION_FIELD[stream];
  return field && !id.startsWith(WHOLE_ROW_IDENTITY_PREFIX) ? `${id}|${part(record[field])}` : id;
}
