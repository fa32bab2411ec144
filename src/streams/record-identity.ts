/**
 * A record's identity, used for dead letters, logs and the snapshot streams' "seen" sets.
 * - audit: its `id`;
 * - detections: `device_id|bundle_id|cve_id` (Kandji gives detections no id; Datadog's pipeline builds its finding
 *   uid from the same three fields; a null bundle_id counts as empty);
 * - threats: `device_id|file_hash|detection_date` (one file can be detected again on the same device later).
 */
import type { StreamName } from '../../workflows/stream-status';

const part = (v: unknown) => (v === null || v === undefined ? '' : String(v));

export function recordIdentity(stream: StreamName, row: object): string {
  const record = row as Record<string, unknown>;
  switch (stream) {
    case 'audit':
      return part(record.id);
    case 'detections':
      return `${part(record.device_id)}|${part(record.bundle_id)}|${part(record.cve_id)}`;
    case 'threats':
      return `${part(record.device_id)}|${part(record.file_hash)}|${part(record.detection_date)}`;
  }
}

/**
 * What makes a snapshot row worth shipping again: a detection only when it (re)appears; a threat also when its
 * status changes (QUARANTINED → RELEASED, …).
 */
export function versionKey(stream: 'detections' | 'threats', row: object): string {
  const record = row as Record<string, unknown>;
  const id = recordIdentity(stream, record);
  return stream === 'threats' ? `${id}|${part(record.status)}` : id;
}
