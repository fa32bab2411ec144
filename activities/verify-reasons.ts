/**
 * Why an event Kandji holds is not in Datadog's index, in this order:
 *   - `excluded`: the log we ship for it matches an enabled exclusion filter of an index (Datadog keeps it out on
 *     purpose; shipping it again would only be excluded again);
 *   - `quota`: an index's daily quota is reached (`is_rate_limited`) and the event is of the quota's day (UTC): a
 *     re-ship would be refused the same way, and costs;
 *   - `stale`: older than Datadog's 18-hour window now: it was past it when shipped, or was lost and can no longer be
 *     shipped (Datadog drops it after a 202 either way); unrecoverable;
 *   - `lost`: accepted, absent, none of the above: inside the window, so shipping it again can repair it.
 */
import { tenantDeps, type ActivityDeps } from './deps';
import { SERVICE_OF_STREAM, toLogItem } from '../src/datadog/log-items';
import { compileQuery, tagsOf, type LogPredicate } from '../src/datadog/log-query';
import type { IndexState } from '../src/datadog/logs-read-client';
import { isStale } from '../src/datadog/stale-events';
import type { AuditRecord } from '../src/kandji/audit-page';
import type { MissingReason } from '../workflows/shared/verify-row';

const DAY_MS = 86_400_000;

export function explainMissing(
  deps: ActivityDeps,
  tenant: string,
  events: readonly AuditRecord[],
  indexes: readonly IndexState[],
): Record<MissingReason, AuditRecord[]> {
  const { ddtags, hostname } = tenantDeps(deps, tenant);
  const now = (deps.now ?? Date.now)();
  const exclusions: LogPredicate[] = indexes.flatMap((i) => i.exclusionQueries.map((q) => compileQuery(q)));
  const quotaReached = indexes.some((i) => i.isRateLimited);
  const out: Record<MissingReason, AuditRecord[]> = { quota: [], excluded: [], stale: [], lost: [] };
  for (const event of events) {
    const item = toLogItem(event, { service: SERVICE_OF_STREAM.audit, ddtags, ...(hostname ? { hostname } : {}) });
    const fields = { item, tags: tagsOf(item, undefined) };
    if (exclusions.some((match) => match(fields))) out.excluded.push(event);
    else if (quotaReached && sameUtcDay(Date.parse(event.occurred_at), now)) out.quota.push(event);
    else if (isStale(event, now)) out.stale.push(event);
    else out.lost.push(event);
  }
  return out;
}

function sameUtcDay(a: number, b: number): boolean {
  return Math.floor(a / DAY_MS) === Math.floor(b / DAY_MS);
}
