/**
 * HTTP client of Datadog's Logs read APIs, for `verify`: the Aggregate API (hourly counts), the Search API (what an
 * hour holds, page by page, as ids or as each log's attributes) and the index configuration (quota reached, exclusion filters). Every request carries
 * `DD-API-KEY` and `DD-APPLICATION-KEY` (an application key with `logs_read_data`; `logs_read_config` for indexes).
 *
 * Answers are read through zod at the edge; failures are RemoteErrors (one table turns them into failure types).
 * The Search and Aggregate APIs are rate-limited per organisation (a few hundred requests an hour): the client keeps
 * the last `X-RateLimit-Remaining` / `-Reset` and, once none remain, refuses to send until the reset (a rate_limited
 * RemoteError with the time to wait), as it does after a 429. An answer with `meta.status: timeout` or `warnings`
 * is partial: it comes back `inconclusive`, never as data — a partial count must not read as "missing".
 */
import { Agent, request } from 'undici';
import { z } from 'zod';
import { RemoteError, kindOfStatus, networkError, retryAfterMs, snippet } from '../remote-errors';
import type { ListedLog } from '../streams/log-identity';

export const AGGREGATE_PATH = '/api/v2/logs/analytics/aggregate';
export const SEARCH_PATH = '/api/v2/logs/events/search';
export const INDEXES_PATH = '/api/v1/logs/config/indexes';
/** Most events the Search API gives per page. */
export const SEARCH_PAGE_LIMIT = 1000;
/** The time buckets verify counts by: the hour, then its minutes (to list only the minutes that differ). */
export const COUNT_INTERVALS = { '1h': 3_600_000, '1m': 60_000 } as const;
export type CountInterval = keyof typeof COUNT_INTERVALS;

export interface LogsReadClientOptions {
  /** `https://api.<site>` (see apiUrlForSite), or a simulator's origin. */
  apiUrl: string;
  apiKey: string | (() => string);
  appKey: string | (() => string);
  /** Connect, headers and body timeout, ms. Default 30 s. */
  timeoutMs?: number;
  userAgent?: string;
  now?: () => number;
}

export type ReadAnswer<T> = { value: T } | { inconclusive: string };

export interface IndexState {
  name: string;
  isRateLimited: boolean;
  /** Queries of the enabled exclusion filters. */
  exclusionQueries: string[];
}

const metaSchema = z
  .object({
    status: z.string().optional(),
    warnings: z.array(z.unknown()).optional(),
    page: z.object({ after: z.string().optional() }).optional(),
  })
  .optional();

const aggregateSchema = z.object({
  data: z.object({
    buckets: z.array(
      z.object({
        computes: z.object({
          c0: z.array(z.object({ time: z.union([z.string(), z.number()]), value: z.number().nullable() })).optional(),
        }),
      }),
    ),
  }),
  meta: metaSchema,
});

const searchSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      attributes: z
        .object({ attributes: z.record(z.string(), z.unknown()).optional(), message: z.string().optional() })
        .optional(),
    }),
  ),
  meta: metaSchema,
});

const indexesSchema = z.object({
  indexes: z.array(
    z.object({
      name: z.string(),
      is_rate_limited: z.boolean().optional(),
      exclusion_filters: z
        .array(z.object({ is_enabled: z.boolean().optional(), filter: z.object({ query: z.string() }).optional() }))
        .nullish(),
    }),
  ),
});

export class DatadogLogsReadClient {
  private readonly dispatcher: Agent;
  private readonly now: () => number;
  private blockedUntil = 0;
  /** Requests sent (answered or not), for the cost of a verification. */
  requests = 0;

  constructor(private readonly opts: LogsReadClientOptions) {
    const timeout = opts.timeoutMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    this.dispatcher = new Agent({
      connections: 2,
      connect: { timeout },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  }

  /** Count of logs matching `query` per `interval` (keyed by the bucket's start, epoch ms) for from ≤ t < to. */
  async counts(
    interval: CountInterval,
    query: string,
    from: number,
    to: number,
    signal?: AbortSignal,
  ): Promise<ReadAnswer<Map<number, number>>> {
    const body = {
      compute: [{ aggregation: 'count', type: 'timeseries', interval }],
      filter: { from: String(from), to: String(to - 1), query, indexes: ['*'], storage_tier: 'indexes' },
    };
    const answer = aggregateSchema.safeParse(await this.call('POST', AGGREGATE_PATH, body, signal));
    if (!answer.success) throw unreadable(AGGREGATE_PATH, answer.error);
    const partial = inconclusive(answer.data.meta);
    if (partial) return { inconclusive: partial };
    const counts = new Map<number, number>();
    for (const point of answer.data.data.buckets[0]?.computes.c0 ?? []) {
      const t = typeof point.time === 'number' ? point.time : Date.parse(point.time);
      const bucket = t - (t % COUNT_INTERVALS[interval]);
      counts.set(bucket, (counts.get(bucket) ?? 0) + (point.value ?? 0));
    }
    return { value: counts };
  }

  /** The values of attribute `attribute` (e.g. `id`) of every log matching `query` with from ≤ t < to. */
  async listAttribute(
    query: string,
    from: number,
    to: number,
    attribute: string,
    signal?: AbortSignal,
    /** Called after every page (the caller heartbeats). */
    onPage: () => void = () => undefined,
  ): Promise<ReadAnswer<string[]>> {
    const pick = (log: ListedLog) => {
      const v = log.attributes[attribute];
      return v === undefined || v === null ? undefined : String(v);
    };
    return this.listLogs(query, from, to, pick, signal, onPage);
  }

  /**
   * `map` of every log matching `query` with from ≤ t < to (its custom attributes and message), in time order;
   * what `map` answers undefined for is left out. The caller keeps only what it needs (a fingerprint, an id), so a
   * listing of a million logs never holds their attributes at once.
   */
  async listLogs<T>(
    query: string,
    from: number,
    to: number,
    map: (log: ListedLog) => T | undefined,
    signal?: AbortSignal,
    /** Called after every page (the caller heartbeats). */
    onPage: () => void = () => undefined,
  ): Promise<ReadAnswer<T[]>> {
    const values: T[] = [];
    let cursor: string | undefined;
    do {
      const body = {
        filter: { from: String(from), to: String(to - 1), query, indexes: ['*'], storage_tier: 'indexes' },
        page: { limit: SEARCH_PAGE_LIMIT, ...(cursor ? { cursor } : {}) },
        sort: 'timestamp',
      };
      const answer = searchSchema.safeParse(await this.call('POST', SEARCH_PATH, body, signal));
      onPage();
      if (!answer.success) throw unreadable(SEARCH_PATH, answer.error);
      const partial = inconclusive(answer.data.meta);
      if (partial) return { inconclusive: partial };
      for (const event of answer.data.data) {
        const { attributes = {}, message } = event.attributes ?? {};
        const v = map({ attributes, ...(message !== undefined ? { message } : {}) });
        if (v !== undefined) values.push(v);
      }
      cursor = answer.data.meta?.page?.after;
    } while (cursor);
    return { value: values };
  }

  /** Every index: whether its daily quota is reached, and its enabled exclusion filters. */
  async indexes(signal?: AbortSignal): Promise<IndexState[]> {
    const answer = indexesSchema.safeParse(await this.call('GET', INDEXES_PATH, undefined, signal));
    if (!answer.success) throw unreadable(INDEXES_PATH, answer.error);
    return answer.data.indexes.map((i) => ({
      name: i.name,
      isRateLimited: i.is_rate_limited ?? false,
      exclusionQueries: (i.exclusion_filters ?? []).flatMap((f) =>
        f.is_enabled === false || !f.filter ? [] : [f.filter.query],
      ),
    }));
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async call(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const waitMs = this.blockedUntil - this.now();
    if (waitMs > 0) {
      throw new RemoteError('datadog', 'rate_limited', `Datadog read rate limit: no requests left for ${waitMs} ms`, {
        retryAfterMs: waitMs,
      });
    }
    const key = (k: string | (() => string)) => (typeof k === 'function' ? k() : k);
    this.requests += 1;
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await request(new URL(path, this.opts.apiUrl), {
        method,
        dispatcher: this.dispatcher,
        signal,
        headers: {
          'dd-api-key': key(this.opts.apiKey),
          'dd-application-key': key(this.opts.appKey),
          'content-type': 'application/json',
          'user-agent': this.opts.userAgent ?? 'kandji-datadog',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      throw networkError('datadog', err);
    }
    this.noteRateLimit(status, headers);
    if (status < 200 || status >= 300) {
      const kind = kindOfStatus(status);
      throw new RemoteError('datadog', kind, `Datadog ${path} answered ${status}: ${snippet(text)}`, {
        status,
        bodySnippet: snippet(text),
        retryAfterMs: kind === 'rate_limited' || kind === 'unavailable' ? retryAfterMs(headers) : undefined,
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new RemoteError('datadog', 'bad_response', `Datadog ${path} answered unreadable JSON: ${snippet(text)}`, {
        status,
        bodySnippet: snippet(text),
      });
    }
  }

  /** No requests left (or a 429): none is sent until `X-RateLimit-Reset` seconds from now. */
  private noteRateLimit(status: number, headers: Record<string, string | string[] | undefined>): void {
    const remaining = headers['x-ratelimit-remaining'];
    if (status !== 429 && (remaining === undefined || String(remaining).trim() !== '0')) return;
    const reset = headers['x-ratelimit-reset'] === undefined ? undefined : retryAfterMs(headers);
    this.blockedUntil = this.now() + (reset ?? 60_000);
  }
}

function inconclusive(meta: z.infer<typeof metaSchema>): string | undefined {
  if (meta?.status === 'timeout') return 'Datadog answered in part (meta.status timeout)';
  if (meta?.warnings && meta.warnings.length > 0)
    return `Datadog answered with warnings: ${snippet(JSON.stringify(meta.warnings))}`;
  return undefined;
}

function unreadable(path: string, error: z.ZodError): RemoteError {
  return new RemoteError('datadog', 'bad_response', `Datadog ${path}: unexpected answer (${error.issues[0]?.message})`);
}
