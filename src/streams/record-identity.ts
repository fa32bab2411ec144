/** A record's identity, used in dead letters and logs: what an operator searches for in Kandji. */
import type { StreamName } from '../../workflows/stream-status';

export function recordIdentity(stream: StreamName, record: Record<string, unknown>): string {
  switch (stream) {
    case 'audit':
      return String(record.id);
  }
}
