/**
 * The read side of Datadog Logs, as the simulator serves it:
 *   - `POST /api/v2/logs/analytics/aggregate` (https://docs.datadoghq.com/api/latest/logs/#aggregate-events): `count`
 *     as `total` or `timeseries` with an `interval`, no group-by;
 *   - `POST /api/v2/logs/events/search` (https://docs.datadoghq.com/api/latest/logs/#search-logs): `page.limit` ≤ 1000,
 *     `page.cursor` ← `meta.page.after`, `sort` `timestamp` / `-timestamp`;
 *   - `GET /api/v1/logs/config/indexes` (https://docs.datadoghq.com/api/latest/logs-indexes/): `is_rate_limited`.
 * Every request needs `DD-API-KEY` and `DD-APPLICATION-KEY`; the application key's permissions decide (403 without
 * `logs_read_data`, or `logs_read_config` for the indexes). Search and aggregate share one rate limit and answer with
 * `X-RateLimit-Limit/-Period/-Remaining/-Reset/-Name`; past it, 429. Faults on demand: the next answers partial
 * (`meta.status: timeout`, half the data), with `warnings`, 429, or 500.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-io';
import type { IndexedLog, LogsIndex } from './logs-index';

export const AGGREGATE_PATH = '/api/v2/logs/analytics/aggregate';
export const SEARCH_PATH = '/api/v2/logs/events/search';
export const INDEXES_PATH = '/api/v1/logs/config/indexes';
export const MAX_SEARCH_PAGE = 1000;

export type ReadPermission = 'logs_read_data' | 'logs_read_config';
export type ReadFaultKind = 'timeout' | 'warnings' | 'rate_limited' | 'server_error';

export interface ReadRequestRecord {
  path: string;
  status: number;
  fault?: ReadFaultKind;
}

export interface ReadRateLimit {
  limit: number;
  periodSeconds: number;
}

export interface ReadApiContext {
  index: LogsIndex;
  now: () => number;
  apiKeys: () => ReadonlySet<string>;
}

const MAX_BODY = 1_000_000;

export class LogsReadApi {
  private appKeys = new Map<string, ReadonlySet<ReadPermission>>();
  private readonly faults: (ReadFaultKind | null)[] = [];
  private rateLimit: ReadRateLimit = { limit: 300, periodSeconds: 3600 };
  private window = { start: 0, used: 0 };
  private statusAttribute: StatusAttribute = 'hoisted';
  readonly requests: ReadRequestRecord[] = [];

  constructor(private readonly ctx: ReadApiContext) {}

  static handles(pathname: string): boolean {
    return pathname === AGGREGATE_PATH || pathname === SEARCH_PATH || pathname === INDEXES_PATH;
  }

  setApplicationKeys(keys: Record<string, readonly ReadPermission[]>): void {
    this.appKeys = new Map(Object.entries(keys).map(([k, p]) => [k, new Set(p)]));
  }

  /** The next search/aggregate answers (one per entry, in order) get these faults; `null`: a normal answer. */
  failNext(...kinds: (ReadFaultKind | null)[]): void {
    this.faults.push(...kinds);
  }

  /**
   * What Search answers of a log's own `status` (a threat's QUARANTINED): Datadog reads `status` as the log's level
   * (a reserved attribute); whether the original value also stays among the custom attributes is not documented.
   * `hoisted` (default, the less favourable reading): only the level, the value gone; `kept`: both.
   */
  setStatusAttribute(mode: StatusAttribute): void {
    this.statusAttribute = mode;
  }

  setRateLimit(limit: ReadRateLimit): void {
    this.rateLimit = { ...limit };
    this.window = { start: 0, used: 0 };
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(req, MAX_BODY);
    if (!body) return;
    const path = url.pathname;
    const reply = (status: number, json: unknown, headers: Record<string, string> = {}, fault?: ReadFaultKind) => {
      this.requests.push({ path, status, ...(fault ? { fault } : {}) });
      sendJson(res, status, json, headers);
    };
    const isIndexes = path === INDEXES_PATH;
    if (req.method !== (isIndexes ? 'GET' : 'POST')) return reply(405, { errors: ['Method Not Allowed'] });
    const denied = this.authProblem(req, isIndexes ? 'logs_read_config' : 'logs_read_data');
    if (denied) return reply(403, { errors: [denied] });
    if (isIndexes) return reply(200, { indexes: [this.ctx.index.describe(this.ctx.now())] });

    const limitHeaders = this.spend();
    const fault = this.faults.shift() ?? undefined;
    if (fault === 'rate_limited' || limitHeaders['X-RateLimit-Remaining'] === '-1') {
      return reply(429, { errors: ['Too many requests'] }, { ...limitHeaders, 'X-RateLimit-Remaining': '0' }, fault);
    }
    if (fault === 'server_error') return reply(500, { errors: ['Internal Server Error'] }, limitHeaders, fault);
    let request: ReadRequest;
    try {
      request = readRequest(body.raw);
    } catch (err) {
      return reply(400, { errors: [(err as Error).message] }, limitHeaders);
    }
    try {
      const answer =
        path === SEARCH_PATH
          ? this.search(request, url, fault === 'timeout')
          : this.aggregate(request, fault === 'timeout');
      const meta = answer.meta as Record<string, unknown>;
      if (fault === 'timeout') meta.status = 'timeout';
      if (fault === 'warnings') {
        meta.warnings = [
          { code: 'unknown_index', title: 'One or several indexes are missing or invalid', detail: 'x' },
        ];
      }
      reply(200, answer, limitHeaders, fault);
    } catch (err) {
      reply(400, { errors: [(err as Error).message] }, limitHeaders);
    }
  }

  private authProblem(req: IncomingMessage, needs: ReadPermission): string | undefined {
    const header = (name: string) => {
      const v = req.headers[name];
      return (Array.isArray(v) ? v[0] : v)?.trim();
    };
    const apiKey = header('dd-api-key');
    if (!apiKey || !this.ctx.apiKeys().has(apiKey)) return 'Forbidden';
    const permissions = this.appKeys.get(header('dd-application-key') ?? '');
    if (!permissions) return 'Forbidden';
    if (!permissions.has(needs)) return `Forbidden: the application key lacks the ${needs} permission`;
    return undefined;
  }

  /** Counts one request against the window; `Remaining` is -1 when it is over the limit. */
  private spend(): Record<string, string> {
    const now = this.ctx.now();
    const periodMs = this.rateLimit.periodSeconds * 1000;
    if (now - this.window.start >= periodMs) this.window = { start: now - (now % periodMs), used: 0 };
    this.window.used += 1;
    const remaining = this.rateLimit.limit - this.window.used;
    return {
      'X-RateLimit-Limit': String(this.rateLimit.limit),
      'X-RateLimit-Period': String(this.rateLimit.periodSeconds),
      'X-RateLimit-Remaining': String(Math.max(-1, remaining)),
      'X-RateLimit-Reset': String(Math.max(1, Math.ceil((this.window.start + periodMs - now) / 1000))),
      'X-RateLimit-Name': 'logs_search_and_analytics',
    };
  }

  private matching(request: ReadRequest): IndexedLog[] {
    const now = this.ctx.now();
    const from = parseTime(request.filter?.from ?? 'now-15m', now);
    const to = parseTime(request.filter?.to ?? 'now', now);
    return this.ctx.index.search(request.filter?.query, from, to, now);
  }

  private aggregate(request: ReadRequest, partial: boolean): Record<string, unknown> {
    const compute = request.compute?.[0] ?? { aggregation: 'count', type: 'total' };
    if (compute.aggregation !== 'count') throw new Error(`the simulator only counts, not ${compute.aggregation}`);
    let logs = this.matching(request);
    if (partial) logs = logs.slice(0, Math.floor(logs.length / 2));
    const meta = { status: 'done', elapsed: 12, request_id: 'sim' };
    if (compute.type !== 'timeseries') return { data: { buckets: [{ by: {}, computes: { c0: logs.length } }] }, meta };
    const now = this.ctx.now();
    const step = parseInterval(compute.interval ?? '1h');
    const from = parseTime(request.filter?.from ?? 'now-15m', now);
    const to = parseTime(request.filter?.to ?? 'now', now);
    const counts = new Map<number, number>();
    for (const l of logs) {
      const t = l.timestampMs - (l.timestampMs % step);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const points = [];
    for (let t = from - (from % step); t < to; t += step) {
      points.push({ time: new Date(t).toISOString(), value: counts.get(t) ?? 0 });
    }
    return { data: { buckets: [{ by: {}, computes: { c0: points } }] }, meta };
  }

  private search(request: ReadRequest, url: URL, partial: boolean): Record<string, unknown> {
    const limit = request.page?.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_PAGE) {
      throw new Error(`page.limit must be between 1 and ${MAX_SEARCH_PAGE}`);
    }
    const all = this.matching(request);
    if (request.sort === '-timestamp') all.reverse();
    const start = request.page?.cursor ? decodeCursor(request.page.cursor) : 0;
    const end = partial ? start + Math.floor(Math.min(limit, all.length - start) / 2) : start + limit;
    const page = all.slice(start, end);
    const more = !partial && end < all.length;
    const meta: Record<string, unknown> = { status: 'done', elapsed: 15, request_id: 'sim' };
    const out: Record<string, unknown> = { data: page.map((l) => toEvent(l, this.statusAttribute)), meta };
    if (more) {
      const after = Buffer.from(String(end)).toString('base64url');
      meta.page = { after };
      out.links = { next: `${url.origin}${SEARCH_PATH}?page[cursor]=${after}` };
    }
    return out;
  }
}

interface ReadRequest {
  filter?: { from?: string; to?: string; query?: string; indexes?: string[]; storage_tier?: string };
  compute?: { aggregation: string; type?: string; interval?: string }[];
  page?: { limit?: number; cursor?: string };
  sort?: string;
}

function readRequest(raw: Buffer | undefined): ReadRequest {
  const text = raw?.toString('utf8') ?? '';
  const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('body must be an object');
  return parsed as ReadRequest;
}

export type StatusAttribute = 'hoisted' | 'kept';

/**
 * A log as the Search API answers it: the reserved attributes top-level (`timestamp`, the official time; `service`,
 * `host` from `hostname`, `tags` from `ddtags`, `message` hoisted out, `status` as the log's level: an unknown level,
 * a threat's QUARANTINED, reads as `info`), every other key of what was sent under `attributes.attributes` — the
 * original `status` too when `statusAttribute` is `kept`.
 */
function toEvent(l: IndexedLog, statusAttribute: StatusAttribute): Record<string, unknown> {
  const { ddsource, service, hostname, ddtags, message, ...attributes } = l.item;
  void ddsource;
  void ddtags;
  const level = logLevel(attributes.status);
  if (statusAttribute === 'hoisted') delete attributes.status;
  return {
    id: l.eventId,
    type: 'log',
    attributes: {
      timestamp: new Date(l.timestampMs).toISOString(),
      service,
      host: hostname,
      message: message ?? '',
      status: level,
      tags: [...l.tags, 'source:kandji'],
      attributes,
    },
  };
}

const LEVELS = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug', 'ok'];

function logLevel(status: unknown): string {
  const s = typeof status === 'string' ? status.toLowerCase() : '';
  return LEVELS.includes(s) ? s : 'info';
}

function decodeCursor(cursor: string): number {
  const n = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(n) || n < 0) throw new Error('invalid page.cursor');
  return n;
}

/** `now`, `now-15m` (s, m, h, d), epoch milliseconds as digits, or an ISO-8601 date. */
export function parseTime(text: string, now: number): number {
  const t = String(text).trim();
  const math = /^now(?:-(\d+)([smhd]))?$/.exec(t);
  if (math) return now - (math[1] ? Number(math[1]) * unitMs(math[2]!) : 0);
  if (/^\d+$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new Error(`cannot read time ${t}`);
  return ms;
}

function parseInterval(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m) throw new Error(`cannot read interval ${text}`);
  return Number(m[1]) * unitMs(m[2]!);
}

function unitMs(unit: string): number {
  return { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1000;
}
