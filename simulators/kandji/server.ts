/**
 * A Kandji API simulator: a real HTTP server on 127.0.0.1 (node:http) serving, the way Kandji's
 * API documentation (https://api-docs.kandji.io/) and real tenants answer them:
 * - `GET /api/v1/audit/events`: cursor pagination with a full `next` URL, `start_date` /
 *   `end_date` filters at microsecond precision;
 * - `GET /api/v1/vulnerability-management/detections`: a current-state list paged by an
 *   `after` cursor, `next` a raw cursor (or a URL), `size`/`limit` clamped to 300, `filter`;
 * - `GET /api/v1/threat-details`: limit/offset pagination with DRF-style `next`/`previous`;
 * - `GET /api/v1/behavioral-detections`: limit/offset over detections that can be added, removed or change status
 *   between two pages (`beforeBehavioralPage`); a tenant without EDR answers 404 or 403.
 * All share bearer tokens, one tenant-wide hourly rate limit, DRF-style JSON errors, an HTML
 * 404 page (also for a feature the tenant is not licensed for) and request recording.
 * Faults from ../faults can be injected per request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, seededRandom, type FaultConfig, type FaultKind } from '../faults';
import { AUDIT_SORT_BY, AuditStore, type AuditSortBy } from './audit-store';
import { BEHAVIORAL_MAX_LIMIT, behavioralPage } from './behavioral-page';
import { BehavioralStore } from './behavioral-store';
import { decodeCursor, encodeCursor, encodeTimestampCursor, type KeysetPosition } from './cursor';
import {
  DetectionStore,
  decodeDetectionCursor,
  encodeDetectionCursor,
  parseDetectionFilter,
  type DetectionFieldSet,
  type DetectionFilter,
} from './detection-store';
import {
  THREAT_SORT_FIELDS,
  ThreatStore,
  type ThreatClassification,
  type ThreatQuery,
  type ThreatSortBy,
  type ThreatStatus,
} from './threat-store';
import { MICROS_PER_DAY, formatMicros, parseInstant } from './time';

export type { AuditRecord } from './audit-records';

export interface KandjiSimulatorOptions {
  /** 0 / undefined = random free port. The server binds 127.0.0.1 only. */
  port?: number;
  /** Accepted bearer tokens. */
  tokens: string[];
  /** Seed for records and faults. Default 1. */
  seed?: number;
  /** Events generated at start, spread over [from, to]. */
  backlog?: { count: number; from: Date; to: Date; tieFraction?: number };
  /** Tenant-wide budget over a sliding hour. Default 10000. */
  requestsPerHour?: number;
  /** Base of the `next` URLs. Default `http://127.0.0.1:<port>`. */
  publicBaseUrl?: string;
  /** Detection rows generated at start (detection times over [from, to], default the last 30 days). */
  detections?: { count: number; fieldSet?: DetectionFieldSet; from?: Date; to?: Date };
  /** Threat-details records generated at start, detections spread over [from, to]. */
  threats?: { count: number; from: Date; to: Date };
  /** Behavioral detections generated at start, spread over [from, to]. */
  behavioralDetections?: { count: number; from: Date; to: Date };
  /** Licensed features; a disabled one answers 404 (HTML). Default: all on. */
  features?: KandjiFeatures;
  /** What behavioral detections answer when EDR is not licensed: 404 (HTML, default) or 403 (JSON). */
  unlicensedBehavioralStatus?: 403 | 404;
  /**
   * Detections `next` as a full URL carrying `after=` (as the Postman docs say) instead of the
   * raw cursor string real tenants were reported to return. Default false.
   */
  detectionsNextAsUrl?: boolean;
  /**
   * What the audit `next` link carries: `keyset` (default) resumes exactly after the last event returned;
   * `timestamp` is Kandji's published form, strictly after the last event's time (`>dt:<time>`), so the rest of a
   * group of events sharing that time is skipped by a client that follows it blindly.
   */
  auditNext?: 'keyset' | 'timestamp';
}

export interface KandjiFeatures {
  /** Vulnerability Management: `/api/v1/vulnerability-management/detections`. */
  detections?: boolean;
  /** EDR: `/api/v1/threat-details`. */
  threats?: boolean;
  /** EDR: `/api/v1/behavioral-detections`. */
  behavioralDetections?: boolean;
}

export interface RecordedRequest {
  /** Arrival time, ms since the epoch. */
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Status sent; 'dropped' when the socket was destroyed; 0 while the answer is pending. */
  status: number | 'dropped';
  fault?: FaultKind;
  /** Whether the request carried an accepted bearer token. */
  authorized: boolean;
}

export const AUDIT_EVENTS_PATH = '/api/v1/audit/events';
export const DETECTIONS_PATH = '/api/v1/vulnerability-management/detections';
export const THREAT_DETAILS_PATH = '/api/v1/threat-details';
export const BEHAVIORAL_DETECTIONS_PATH = '/api/v1/behavioral-detections';
export const MAX_LIMIT = 500;
/** Hard maximum (and default) page size of detections. */
export const DETECTIONS_MAX_SIZE = 300;
/** Hard maximum (and default) page size of threat-details. */
export const THREATS_MAX_LIMIT = 1000;
const HOUR_MS = 3_600_000;
const SERVER_HEADER = 'gunicorn/20.0.4';

const NOT_FOUND_HTML =
  '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n' +
  '  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n';

function serverErrorHtml(status: number): string {
  if (status === 500) {
    return (
      '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n' +
      '  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n'
    );
  }
  const reason = status === 502 ? '502 Bad Gateway' : '503 Service Temporarily Unavailable';
  return `<html>\r\n<head><title>${reason}</title></head>\r\n<body>\r\n<center><h1>${reason}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

/** First bytes of an audit page, cut mid-record. */
const MALFORMED_JSON_BODY = '{"results":[{"id":"01';

class BadRequest extends Error {}

interface PageParams {
  limit: number;
  sortBy: AuditSortBy;
  start?: bigint;
  end?: bigint;
  after?: { t: bigint; id: string };
}

export class KandjiSimulator {
  readonly audit: AuditStore;
  readonly detections: DetectionStore;
  readonly threats: ThreatStore;
  readonly behavioral: BehavioralStore;
  /**
   * Called before each behavioral detections page is answered, with its query (`offset`, …): a test adds, removes
   * or changes detections there, as happens on Kandji between two pages of a client's paging.
   */
  beforeBehavioralPage: ((query: Record<string, string>) => void) | undefined;
  /** Largest behavioral detections page (Kandji: 1000); smaller in tests, to page over few records. */
  behavioralMaxLimit = BEHAVIORAL_MAX_LIMIT;
  /** See KandjiSimulatorOptions.unlicensedBehavioralStatus; may be changed while running. */
  unlicensedBehavioralStatus: 403 | 404;
  private features: Required<KandjiFeatures>;
  private detectionsNextAsUrl: boolean;
  /** See KandjiSimulatorOptions.auditNext; may be changed while running. */
  auditNext: 'keyset' | 'timestamp';
  /**
   * Records served at the end of every audit page as they are (JSON values), e.g. one without an `id` or with an
   * unreadable `occurred_at`: a tenant's data can hold what the API documents never to happen.
   */
  brokenAuditRecords: unknown[] = [];
  /** Sweeps of detections still to be answered with an empty list (see answerDetectionsEmpty). */
  private emptyDetectionSweeps = 0;
  private _url = '';
  private publicBase = '';
  private tokens: Set<string>;
  private requestsPerHour: number;
  private readonly faults: FaultInjector;
  private readonly faultRandom: () => number;
  private readonly recorded: RecordedRequest[] = [];
  /** Arrival times (ms) of requests counted against the hourly budget. */
  private window: number[] = [];
  private readonly pendingTimers = new Set<NodeJS.Timeout>();
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly opts: KandjiSimulatorOptions,
    private readonly server: http.Server,
  ) {
    const seed = opts.seed ?? 1;
    this.audit = new AuditStore({ seed });
    this.detections = new DetectionStore({ seed, fieldSet: opts.detections?.fieldSet ?? 'current' });
    this.threats = new ThreatStore({ seed });
    this.behavioral = new BehavioralStore({ seed });
    this.unlicensedBehavioralStatus = opts.unlicensedBehavioralStatus ?? 404;
    this.features = {
      detections: opts.features?.detections ?? true,
      threats: opts.features?.threats ?? true,
      behavioralDetections: opts.features?.behavioralDetections ?? true,
    };
    this.detectionsNextAsUrl = opts.detectionsNextAsUrl ?? false;
    this.auditNext = opts.auditNext ?? 'keyset';
    this.tokens = new Set(opts.tokens);
    this.requestsPerHour = opts.requestsPerHour ?? 10_000;
    this.faults = new FaultInjector(seededRandom((seed ^ 0x0fa017) >>> 0));
    this.faultRandom = seededRandom((seed ^ 0x5eed5) >>> 0);
  }

  static async start(opts: KandjiSimulatorOptions): Promise<KandjiSimulator> {
    const server = http.createServer();
    const sim = new KandjiSimulator(opts, server);
    if (opts.backlog) sim.audit.generateBacklog(opts.backlog);
    if (opts.detections) {
      const { count, from, to } = opts.detections;
      sim.detections.seedDetections(count, { ...(from ? { from } : {}), ...(to ? { to } : {}) });
    }
    if (opts.threats) sim.threats.seedThreats(opts.threats.count, opts.threats);
    if (opts.behavioralDetections) sim.behavioral.seed(opts.behavioralDetections.count, opts.behavioralDetections);
    server.on('request', (req, res) => sim.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    sim._url = `http://127.0.0.1:${port}`;
    sim.publicBase = (opts.publicBaseUrl ?? sim._url).replace(/\/+$/, '');
    return sim;
  }

  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  get url(): string {
    return this._url;
  }

  /** The port the server listens on. */
  get port(): number {
    return Number(new URL(this._url).port);
  }

  setTokens(tokens: string[]): void {
    this.tokens = new Set(tokens);
  }

  setFaults(config: FaultConfig): void {
    this.faults.set(config);
  }

  /** Turns licensed features on or off (unspecified ones keep their state). */
  setFeatures(features: KandjiFeatures): void {
    this.features = { ...this.features, ...withoutUndefined(features) };
  }

  /** Current licensed features. */
  get enabledFeatures(): Required<KandjiFeatures> {
    return { ...this.features };
  }

  /**
   * The next `sweeps` reads of the first detections page (no `after`) answer an empty list (200, no `next`), as a
   * tenant's transient empty answer would; later reads answer normally again.
   */
  answerDetectionsEmpty(sweeps = 1): void {
    this.emptyDetectionSweeps = sweeps;
  }

  /** See KandjiSimulatorOptions.detectionsNextAsUrl. */
  setDetectionsNextAsUrl(asUrl: boolean): void {
    this.detectionsNextAsUrl = asUrl;
  }

  setRequestsPerHour(n: number): void {
    if (!(n >= 0)) throw new RangeError(`requestsPerHour must be >= 0, got ${n}`);
    this.requestsPerHour = n;
  }

  /** Forget the requests counted against the hourly budget. */
  resetRateLimit(): void {
    this.window = [];
  }

  /** Every request received, in arrival order (a copy). */
  get requests(): readonly RecordedRequest[] {
    return this.recorded.slice();
  }

  requestCount(filter?: (r: RecordedRequest) => boolean): number {
    return filter ? this.recorded.filter(filter).length : this.recorded.length;
  }

  clearRequests(): void {
    this.recorded.length = 0;
  }

  /** Stops live generation, closes the server and every open socket. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.audit.stopLive();
      for (const t of this.pendingTimers) clearTimeout(t);
      this.pendingTimers.clear();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.stopped;
  }

  // -------------------------------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) if (!(k in query)) query[k] = v;
    const auth = this.authenticate(req.headers.authorization);
    const rec: RecordedRequest = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      status: 0,
      authorized: auth.ok,
    };
    this.recorded.push(rec);
    req.resume(); // discard any body

    const send = (status: number, body: string, contentType: string, headers: Record<string, string> = {}): void => {
      rec.status = status;
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(status, {
        'Content-Type': contentType,
        'Content-Length': String(Buffer.byteLength(body)),
        Server: SERVER_HEADER,
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const sendJson = (status: number, value: unknown, headers?: Record<string, string>): void =>
      send(status, typeof value === 'string' ? value : JSON.stringify(value), 'application/json', {
        Vary: 'Accept, Origin',
        Allow: 'GET, HEAD, OPTIONS',
        ...headers,
      });

    const normal = (): void => {
      try {
        this.answer(url, req, auth, sendJson, send);
      } catch (err) {
        sendJson(500, { detail: `simulator error: ${(err as Error).message}` });
      }
    };

    const fault = url.pathname.startsWith('/api/') ? this.faults.draw() : undefined;
    if (!fault) return normal();
    rec.fault = fault.kind;
    switch (fault.kind) {
      case 'server_error_html': {
        const status = [500, 502, 503][Math.floor(this.faultRandom() * 3)] ?? 500;
        send(status, serverErrorHtml(status), 'text/html', status === 500 ? {} : { Server: 'awselb/2.0' });
        return;
      }
      case 'rate_limited': {
        const n = fault.retryAfterSeconds;
        sendJson(429, { detail: throttleMessage(n) }, { 'Retry-After': String(n) });
        return;
      }
      case 'slow': {
        const timer = setTimeout(() => {
          this.pendingTimers.delete(timer);
          normal();
        }, fault.slowMs);
        this.pendingTimers.add(timer);
        return;
      }
      case 'malformed_json':
        send(200, MALFORMED_JSON_BODY, 'application/json');
        return;
      case 'drop_connection':
        rec.status = 'dropped';
        req.socket.destroy();
        return;
    }
  }

  private answer(
    url: URL,
    req: http.IncomingMessage,
    auth: { ok: boolean; detail?: string },
    sendJson: (status: number, value: unknown, headers?: Record<string, string>) => void,
    send: (status: number, body: string, contentType: string, headers?: Record<string, string>) => void,
  ): void {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const route =
      path === AUDIT_EVENTS_PATH
        ? 'audit'
        : path === DETECTIONS_PATH && this.features.detections
          ? 'detections'
          : path === THREAT_DETAILS_PATH && this.features.threats
            ? 'threats'
            : path === BEHAVIORAL_DETECTIONS_PATH &&
                (this.features.behavioralDetections || this.unlicensedBehavioralStatus === 403)
              ? 'behavioral'
              : undefined;
    if (!route) {
      // Unknown paths and unlicensed features alike: Django's HTML page, before authentication.
      send(404, NOT_FOUND_HTML, 'text/html');
      return;
    }
    if (!auth.ok) {
      sendJson(401, { detail: auth.detail }, { 'WWW-Authenticate': 'Bearer realm="api"' });
      return;
    }
    const wait = this.throttle();
    if (wait !== undefined) {
      sendJson(429, { detail: throttleMessage(wait) }, { 'Retry-After': String(wait) });
      return;
    }
    if (route === 'behavioral' && !this.features.behavioralDetections) {
      sendJson(403, { detail: 'You do not have permission to perform this action.' });
      return;
    }
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(405, { detail: `Method "${method}" not allowed.` });
      return;
    }
    let body: string;
    try {
      if (route === 'audit') body = this.page(parsePageParams(url.searchParams));
      else if (route === 'detections') body = this.detectionsPage(url.searchParams);
      else if (route === 'behavioral') body = this.behavioralDetectionsPage(url.searchParams);
      else body = this.threatsPage(url.searchParams);
    } catch (err) {
      if (err instanceof BadRequest) {
        sendJson(400, { detail: err.message });
        return;
      }
      throw err;
    }
    sendJson(200, body);
  }

  /**
   * One detections page. Page size from `size`, else `limit` (clamped to 300). `after` is the
   * opaque cursor; `cursor` is ignored (so it returns page 1 again, as reported for real
   * tenants), as are plain field parameters such as `device_id`.
   */
  private detectionsPage(q: URLSearchParams): string {
    const get = (k: string): string | undefined => {
      const v = q.get(k);
      return v === null || v.trim() === '' ? undefined : v.trim();
    };
    const sizeName = get('size') !== undefined ? 'size' : 'limit';
    const rawSize = get(sizeName);
    let size = DETECTIONS_MAX_SIZE;
    if (rawSize !== undefined) {
      if (!/^[+]?\d+$/.test(rawSize) || Number(rawSize) < 1) {
        throw new BadRequest(`Invalid ${sizeName}: "${rawSize}". Expected a positive integer.`);
      }
      size = Math.min(Number(rawSize), DETECTIONS_MAX_SIZE);
    }
    let after: string | undefined;
    const rawAfter = get('after');
    if (rawAfter !== undefined) {
      after = decodeDetectionCursor(rawAfter);
      if (after === undefined) throw new BadRequest('Invalid cursor');
    }
    let filter: DetectionFilter | undefined;
    const rawFilter = q.get('filter');
    if (rawFilter !== null && rawFilter.trim() !== '') {
      const parsed = parseDetectionFilter(rawFilter);
      if ('error' in parsed) throw new BadRequest(parsed.error);
      filter = parsed.filter;
    }
    if (after === undefined && this.emptyDetectionSweeps > 0) {
      this.emptyDetectionSweeps -= 1;
      return '{"next":null,"previous":null,"results":[]}';
    }
    const page = this.detections.page({
      limit: size,
      ...(after !== undefined ? { after } : {}),
      ...(filter ? { filter } : {}),
    });
    let next: string | null = null;
    const lastKey = page.keys[page.keys.length - 1];
    if (page.more && lastKey !== undefined) {
      next = encodeDetectionCursor(lastKey);
      if (this.detectionsNextAsUrl) {
        const qs = new URLSearchParams(q);
        qs.delete('cursor');
        qs.set('after', next);
        next = `${this.publicBase}${DETECTIONS_PATH}?${qs.toString()}`;
      }
    }
    const results = page.keys.map((k) => this.detections.json(k)).join(',');
    return `{"next":${JSON.stringify(next)},"previous":null,"results":[${results}]}`;
  }

  /** One behavioral detections page (behavioral-page.ts), after the test's hook had its say. */
  private behavioralDetectionsPage(q: URLSearchParams): string {
    this.beforeBehavioralPage?.(Object.fromEntries(q));
    const page = behavioralPage(
      this.behavioral,
      q,
      (qs) => `${this.publicBase}${BEHAVIORAL_DETECTIONS_PATH}?${qs.toString()}`,
      this.behavioralMaxLimit,
    );
    if ('badRequest' in page) throw new BadRequest(page.badRequest);
    return page.body;
  }

  /** One threat-details page: DRF LimitOffsetPagination (invalid limit/offset fall back to defaults). */
  private threatsPage(q: URLSearchParams): string {
    const get = (k: string): string | undefined => {
      const v = q.get(k);
      return v === null || v.trim() === '' ? undefined : v.trim();
    };
    const positive = (v: string | undefined): number | undefined =>
      v !== undefined && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : undefined;
    const limit = Math.min(positive(get('limit')) ?? THREATS_MAX_LIMIT, THREATS_MAX_LIMIT);
    const offset = positive(get('offset')) ?? 0;
    const query: ThreatQuery = { limit, offset };
    const sortBy = get('sort_by');
    if (sortBy !== undefined) {
      const field = sortBy.startsWith('-') ? sortBy.slice(1) : sortBy;
      if (!(THREAT_SORT_FIELDS as readonly string[]).includes(field)) {
        throw new BadRequest(
          `Invalid sort_by: "${sortBy}". Expected one of: ${THREAT_SORT_FIELDS.join(', ')} (optionally prefixed with -).`,
        );
      }
      query.sortBy = sortBy as ThreatSortBy;
    }
    const classification = get('classification')?.toLowerCase();
    if (classification !== undefined) {
      if (classification !== 'malware' && classification !== 'pup') {
        throw new BadRequest(`Invalid classification: "${classification}". Expected one of: malware, pup.`);
      }
      query.classification = classification.toUpperCase() as ThreatClassification;
    }
    const status = get('status')?.toLowerCase();
    if (status !== undefined) {
      if (!['quarantined', 'not_quarantined', 'released'].includes(status)) {
        throw new BadRequest(`Invalid status: "${status}". Expected one of: quarantined, not_quarantined, released.`);
      }
      query.status = status.toUpperCase() as ThreatStatus;
    }
    const dateRange = get('date_range');
    if (dateRange !== undefined) {
      const days = positive(dateRange);
      if (days === undefined)
        throw new BadRequest(`Invalid date_range: "${dateRange}". Expected a positive number of days.`);
      query.dateRangeDays = days;
    }
    const deviceId = get('device_id');
    if (deviceId !== undefined) query.deviceId = deviceId;
    const term = get('term');
    if (term !== undefined) query.term = term;

    const res = this.threats.query(query);
    const pageUrl = (off: number): string => {
      const qs = new URLSearchParams(q);
      qs.set('limit', String(limit));
      if (off > 0) qs.set('offset', String(off));
      else qs.delete('offset');
      return `${this.publicBase}${THREAT_DETAILS_PATH}?${qs.toString()}`;
    };
    const next = offset + limit < res.count ? pageUrl(offset + limit) : null;
    const previous = offset > 0 ? pageUrl(Math.max(0, offset - limit)) : null;
    return JSON.stringify({
      count: res.count,
      next,
      previous,
      malware_count: res.malware_count,
      pup_count: res.pup_count,
      results: res.results,
    });
  }

  /** Builds the JSON text of one page. */
  private page(p: PageParams): string {
    const events = this.audit.query({ sortBy: p.sortBy, start: p.start, end: p.end, after: p.after, limit: p.limit });
    let next: string | null = null;
    const last = events[events.length - 1];
    // A full page always gets a next URL (it may lead to an empty page); a short page never does.
    if (last && events.length >= p.limit) {
      const cursor: KeysetPosition = { sortBy: p.sortBy, after: { t: last.t, id: last.id } };
      if (p.start !== undefined) cursor.start = p.start;
      if (p.end !== undefined) cursor.end = p.end;
      const timestampOnly = this.auditNext === 'timestamp' && p.sortBy === 'occurred_at';
      const qs = new URLSearchParams({
        limit: String(p.limit),
        sort_by: p.sortBy,
        cursor: timestampOnly ? encodeTimestampCursor(last.t) : encodeCursor(cursor),
      });
      if (timestampOnly && p.end !== undefined) qs.set('end_date', formatMicros(p.end));
      next = `${this.publicBase}${AUDIT_EVENTS_PATH}?${qs.toString()}`;
    }
    const results = [
      ...events.map((e) => this.audit.json(e)),
      ...this.brokenAuditRecords.map((r) => JSON.stringify(r)),
    ].join(',');
    return `{"results":[${results}],"previous":null,"next":${JSON.stringify(next)}}`;
  }

  private authenticate(header: string | undefined): { ok: boolean; detail?: string } {
    if (!header) return { ok: false, detail: 'Authentication credentials were not provided.' };
    const parts = header.trim().split(/\s+/);
    if (parts[0]?.toLowerCase() !== 'bearer')
      return { ok: false, detail: 'Authentication credentials were not provided.' };
    if (parts.length === 1) return { ok: false, detail: 'Invalid token header. No credentials provided.' };
    if (parts.length > 2) return { ok: false, detail: 'Invalid token header. Token string should not contain spaces.' };
    return this.tokens.has(parts[1] as string) ? { ok: true } : { ok: false, detail: 'Invalid token.' };
  }

  /** Counts an authorized request; returns seconds to wait when the hourly budget is spent. */
  private throttle(): number | undefined {
    const now = Date.now();
    const horizon = now - HOUR_MS;
    let drop = 0;
    while (drop < this.window.length && (this.window[drop] as number) <= horizon) drop++;
    if (drop > 0) this.window = this.window.slice(drop);
    if (this.window.length >= this.requestsPerHour) {
      const oldest = this.window[this.window.length - this.requestsPerHour] ?? now;
      return Math.max(1, Math.ceil((oldest + HOUR_MS - now) / 1000));
    }
    this.window.push(now);
    return undefined;
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function throttleMessage(seconds: number): string {
  return `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`;
}

function parseBound(name: string, value: string, endOfDay: boolean): bigint {
  const parsed = parseInstant(value);
  if (!parsed)
    throw new BadRequest(
      `Invalid ${name}: "${value}". Use a datetime like 2024-11-26T22:58:26.239570Z or a date like 2024-11-26.`,
    );
  // A bare end_date covers that whole day (inclusive); a bare start_date starts at midnight UTC.
  return parsed.dateOnly && endOfDay ? parsed.micros + MICROS_PER_DAY - 1n : parsed.micros;
}

function parsePageParams(q: URLSearchParams): PageParams {
  const get = (k: string): string | undefined => {
    const v = q.get(k);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  let limit = MAX_LIMIT;
  const rawLimit = get('limit');
  if (rawLimit !== undefined) {
    if (!/^[+]?\d+$/.test(rawLimit))
      throw new BadRequest(`Invalid limit: "${rawLimit}". Expected an integer between 1 and ${MAX_LIMIT}.`);
    const n = Number(rawLimit);
    if (n < 1) throw new BadRequest(`Invalid limit: "${rawLimit}". Expected an integer between 1 and ${MAX_LIMIT}.`);
    limit = Math.min(n, MAX_LIMIT);
  }
  const rawCursor = get('cursor');
  if (rawCursor !== undefined) {
    const c = decodeCursor(rawCursor);
    if (!c) throw new BadRequest('Invalid cursor');
    // The cursor carries the sort order and the filters of the first request.
    const params: PageParams = { limit, sortBy: c.sortBy, after: c.after };
    if (c.start !== undefined) params.start = c.start;
    if (c.end !== undefined) params.end = c.end;
    const end = get('end_date');
    if (c.strictTime && end !== undefined) params.end = parseBound('end_date', end, true);
    return params;
  }
  const sortBy = get('sort_by') ?? 'occurred_at';
  if (!(AUDIT_SORT_BY as readonly string[]).includes(sortBy)) {
    throw new BadRequest(`Invalid sort_by: "${sortBy}". Expected one of: ${AUDIT_SORT_BY.join(', ')}.`);
  }
  const params: PageParams = { limit, sortBy: sortBy as AuditSortBy };
  const start = get('start_date');
  const end = get('end_date');
  if (start !== undefined) params.start = parseBound('start_date', start, false);
  if (end !== undefined) params.end = parseBound('end_date', end, true);
  return params;
}
