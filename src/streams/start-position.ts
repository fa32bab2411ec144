/** Where a new stream starts reading: `--since`, else KANDJI_START_DATE, else 17 hours ago. */
import { timestampKey } from '../../workflows/shared/timestamps';

/** Datadog drops logs older than 18 h at intake; starting 17 h back leaves an hour for the first backlog. */
export const DEFAULT_LOOKBACK_MS = 17 * 3_600_000;

export function startPosition(since: string | undefined, startDate: string | undefined, now = Date.now()): string {
  const chosen = since ?? startDate;
  return chosen ? timestampKey(chosen) : timestampKey(new Date(now - DEFAULT_LOOKBACK_MS).toISOString());
}
