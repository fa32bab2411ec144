/**
 * The simulator's one log index ("main"): what the intake accepted (202) and within the timestamp window, as the
 * read APIs see it. Between the 202 and the index a log can be kept out, as in Datadog
 * (https://docs.datadoghq.com/logs/log_configuration/indexes/):
 *   - an enabled exclusion filter whose query matches it (sample rate 1: all of them);
 *   - the index's daily quota, once reached (the index is then `is_rate_limited` until the next UTC day);
 *   - a drop predicate (a pipeline or an incident that loses logs after accepting them).
 * An indexed log becomes searchable only `indexingDelayMs` after it arrived.
 */
import type { ReceivedLog } from './intake-validation';
import { compileQuery, tagsOf, type IndexedFields, type LogPredicate } from '../../src/datadog/log-query';

export interface IndexedLog extends IndexedFields {
  /** Datadog's own event id (not the record's `id`). */
  eventId: string;
  timestampMs: number;
  /** When it arrived (simulator clock): searchable from `arrivedAt + indexingDelayMs`. */
  arrivedAt: number;
}

export interface ExclusionFilter {
  name: string;
  query: string;
  isEnabled?: boolean;
}

export interface IndexSettings {
  /** Logs indexed per UTC day (of arrival) before the index refuses more. Absent: no quota. */
  dailyLimit?: number;
  exclusionFilters?: ExclusionFilter[];
  /** Delay between arrival and being searchable, ms. Default 0. */
  indexingDelayMs?: number;
  /** Days of retention shown by the indexes API. Default 15. */
  retentionDays?: number;
}

export type IngestOutcome = 'indexed' | 'excluded' | 'quota' | 'dropped';

export const INDEX_NAME = 'main';
const DAY_MS = 86_400_000;

export class LogsIndex {
  private readonly logs: IndexedLog[] = [];
  private settings: IndexSettings = {};
  private exclusions: { filter: ExclusionFilter; match: LogPredicate }[] = [];
  private drop: ((item: ReceivedLog) => boolean) | undefined;
  private readonly perDay = new Map<number, number>();
  private nextId = 1;
  /** Logs kept out of the index, by why. */
  readonly keptOut: Record<Exclude<IngestOutcome, 'indexed'>, ReceivedLog[]> = { excluded: [], quota: [], dropped: [] };

  configure(settings: IndexSettings): void {
    this.settings = { ...settings };
    this.exclusions = (settings.exclusionFilters ?? []).map((filter) => ({
      filter,
      match: compileQuery(filter.query),
    }));
  }

  get current(): IndexSettings {
    return { ...this.settings };
  }

  /** While set, accepted logs for which it returns true vanish before the index (`undefined` turns it off). */
  setDrop(predicate: ((item: ReceivedLog) => boolean) | undefined): void {
    this.drop = predicate;
  }

  ingest(item: ReceivedLog, timestampMs: number, ddtagsParam: string | undefined, arrivedAt: number): IngestOutcome {
    const fields: IndexedFields = { item, tags: tagsOf(item, ddtagsParam) };
    const outcome = this.outcomeOf(fields, arrivedAt);
    if (outcome !== 'indexed') {
      this.keptOut[outcome].push(item);
      return outcome;
    }
    const day = Math.floor(arrivedAt / DAY_MS);
    this.perDay.set(day, (this.perDay.get(day) ?? 0) + 1);
    this.logs.push({ ...fields, eventId: `AQAAAY${String(this.nextId++).padStart(12, '0')}`, timestampMs, arrivedAt });
    return 'indexed';
  }

  /** Whether the quota is reached for the UTC day of `now`. */
  isRateLimited(now: number): boolean {
    const { dailyLimit } = this.settings;
    return dailyLimit !== undefined && (this.perDay.get(Math.floor(now / DAY_MS)) ?? 0) >= dailyLimit;
  }

  /** Searchable logs with from ≤ timestamp ≤ to (both inclusive, as Datadog reads them) matching `query`, oldest first (then by event id). */
  search(query: string | undefined, from: number, to: number, now: number): IndexedLog[] {
    const match = compileQuery(query);
    const visibleBefore = now - (this.settings.indexingDelayMs ?? 0);
    return this.logs
      .filter((l) => l.arrivedAt <= visibleBefore && l.timestampMs >= from && l.timestampMs <= to && match(l))
      .sort((a, b) => a.timestampMs - b.timestampMs || (a.eventId < b.eventId ? -1 : 1));
  }

  /** The index as `GET /api/v1/logs/config/indexes` describes it. */
  describe(now: number): Record<string, unknown> {
    const { dailyLimit, retentionDays = 15 } = this.settings;
    return {
      name: INDEX_NAME,
      filter: { query: '*' },
      num_retention_days: retentionDays,
      ...(dailyLimit !== undefined ? { daily_limit: dailyLimit } : {}),
      is_rate_limited: this.isRateLimited(now),
      exclusion_filters: this.exclusions.map(({ filter }) => ({
        name: filter.name,
        is_enabled: filter.isEnabled ?? true,
        filter: { query: filter.query, sample_rate: 1 },
      })),
    };
  }

  clear(): void {
    this.logs.length = 0;
    this.perDay.clear();
    for (const list of Object.values(this.keptOut)) list.length = 0;
  }

  private outcomeOf(fields: IndexedFields, arrivedAt: number): IngestOutcome {
    if (this.drop?.(fields.item)) return 'dropped';
    if (this.exclusions.some(({ filter, match }) => (filter.isEnabled ?? true) && match(fields))) return 'excluded';
    if (this.isRateLimited(arrivedAt)) return 'quota';
    return 'indexed';
  }
}
