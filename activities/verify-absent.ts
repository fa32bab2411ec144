/**
 * Which of an hour's Kandji events Datadog does not hold, at the cost of a few requests: the hour's count per minute
 * (one Aggregate request) against Kandji's, then only the minutes whose counts differ are listed id by id (Search,
 * 1,000 a page, adjacent minutes as one range). A minute whose counts agree is taken as whole. Any partial answer
 * makes the whole answer inconclusive.
 */
import type { TenantDeps } from './deps';
import { COUNT_INTERVALS, type ReadAnswer } from '../src/datadog/logs-read-client';
import type { AuditRecord } from '../src/kandji/audit-page';

type Reads = NonNullable<TenantDeps['datadogLogs']>;
const MINUTE_MS = COUNT_INTERVALS['1m'];

export async function absentEvents(
  reads: Reads,
  query: string,
  events: readonly AuditRecord[],
  hourStart: number,
  signal?: AbortSignal,
  /** Called after every request (a heartbeat when due: a long listing outlives no heartbeat timeout). */
  onRequest: () => void = () => undefined,
): Promise<ReadAnswer<AuditRecord[]>> {
  const minuteOf = (e: AuditRecord) => {
    const t = Date.parse(e.occurred_at);
    return t - (t % MINUTE_MS);
  };
  const kandji = new Map<number, number>();
  for (const e of events) kandji.set(minuteOf(e), (kandji.get(minuteOf(e)) ?? 0) + 1);
  const datadog = await reads.counts('1m', query, hourStart, hourStart + COUNT_INTERVALS['1h'], signal);
  onRequest();
  if ('inconclusive' in datadog) return datadog;
  const differing = new Set<number>();
  for (let m = hourStart; m < hourStart + COUNT_INTERVALS['1h']; m += MINUTE_MS)
    if ((kandji.get(m) ?? 0) !== (datadog.value.get(m) ?? 0)) differing.add(m);
  const present = new Set<string>();
  for (const [from, to] of ranges([...differing].sort((a, b) => a - b))) {
    const listed = await reads.listAttribute(query, from, to, 'id', signal, onRequest);
    if ('inconclusive' in listed) return listed;
    for (const id of listed.value) present.add(id);
  }
  return { value: events.filter((e) => differing.has(minuteOf(e)) && !present.has(e.id)) };
}

/** Ascending minute starts → [from, to) ranges of adjacent minutes. */
function ranges(minutes: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const m of minutes) {
    const last = out[out.length - 1];
    if (last && last[1] === m) last[1] = m + MINUTE_MS;
    else out.push([m, m + MINUTE_MS]);
  }
  return out;
}
