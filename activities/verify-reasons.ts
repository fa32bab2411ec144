/**
 * Why an event (audit) or row (snapshot streams) Kandji holds is not in Datadog's index, in this order:
 *   - `excluded`: the log we ship for it matches an enabled exclusion filter of an index (Datadog keeps it out on
 *     purpose; shipping it again would only be excluded again);
 *   - `quota`: an index's daily quota is reached (`is_rate_limited`) and the event is of the quota's day (UTC): a
 *     re-ship would be refused the same way, and costs;
 *   - `stale`: older than Datadog's 18-hour window now: it was past it when shipped, or was lost and can no longer be
 *     shipped (Datadog drops it after a 202 either way); unrecoverable. Never under the `restamp` stale policy (the
 *     default of detections and behavioral detections): a stale row is then shipped dated now, so it never goes stale;
 *     nor for a row Datadog dates when it receives it (threats have no date attribute Datadog reads);
 *   - `lost`: accepted, absent, none of the above: inside the window, so shipping it again can repair it.
 */
import { tenantDeps, type ActivityDeps } from './deps';
import { DATED_BY, SERVICE_OF_STREAM, toLogItem } from '../src/datadog/log-items';
import { compileQuery, tagsOf, type LogPredicate } from '../src/datadog/log-query';
import type { IndexState } from '../src/datadog/logs-read-client';
import { isStale, officialTimeMs, restamp, stalePolicyFor } from '../src/datadog/stale-events';
import type { StreamName } from '../workflows/shared/stream-status';
import type { MissingReason } from '../workflows/shared/verify-row';

const DAY_MS = 86_400_000;

export function explainMissing<R extends object>(
  deps: ActivityDeps,
  tenant: string,
  events: readonly R[],
  indexes: readonly IndexState[],
  stream: StreamName = 'audit',
): Record<MissingReason, R[]> {
  const t = tenantDeps(deps, tenant);
  // An audit hour is verified by occurred_at, where a restamped log is not: audit keeps calling its old events stale.
  const restamps =
    stream !== 'audit' && stalePolicyFor(stream, t.stalePolicies, deps.stalePolicies, deps.stalePolicy) === 'restamp';
  const now = (deps.now ?? Date.now)();
  const exclusions: LogPredicate[] = indexes.flatMap((i) => i.exclusionQueries.map((q) => compileQuery(q)));
  const quotaReached = indexes.some((i) => i.isRateLimited);
  const context = {
    service: SERVICE_OF_STREAM[stream],
    ddtags: t.ddtags,
    ...(t.hostname ? { hostname: t.hostname } : {}),
    ...(DATED_BY[stream] ? { datedBy: DATED_BY[stream] } : {}),
  };
  const out: Record<MissingReason, R[]> = { quota: [], excluded: [], stale: [], lost: [] };
  for (const event of events) {
    const record = event as Record<string, unknown>;
    // What was sent for it: a stale row restamped (a restamped row never goes stale), dated now.
    const restamped = restamps && isStale(record, now, stream);
    const item = toLogItem(restamped ? restamp(record, now, stream) : record, context);
    const loggedAt = restamped ? now : (officialTimeMs(record, stream) ?? now);
    if (exclusions.some((match) => match({ item, tags: tagsOf(item, undefined) }))) out.excluded.push(event);
    else if (quotaReached && sameUtcDay(loggedAt, now)) out.quota.push(event);
    else if (!restamped && isStale(record, now, stream)) out.stale.push(event);
    else out.lost.push(event);
  }
  return out;
}

function sameUtcDay(a: number, b: number): boolean {
  return Math.floor(a / DAY_MS) === Math.floor(b / DAY_MS);
}
