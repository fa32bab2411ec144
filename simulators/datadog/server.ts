/**
 * DatadogSimulator: a real HTTP server on 127.0.0.1 that behaves like the Datadog Logs intake
 * `POST /api/v2/logs` (https://docs.datadoghq.com/api/latest/logs/#send-logs: DD-API-KEY header,
 * JSON array or object body, optional gzip/deflate, 202 on success), with injectable faults.
 *
 * Order of checks for one request:
 *   outage → route (404) → method (405) → fault draw → read body → API key (401/403)
 *   → raw size guard (413) → Content-Encoding / decompression (400/413) → JSON shape / item count (400)
 *   → poison (400) → timestamp window (stale items set aside) → store → 202.
 * A faulted request (other than `slow`) stores nothing. `dropAfterAccept` stores the items and
 * then destroys the socket instead of answering 202. A poisoned request stores nothing.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, seededRandom, type FaultConfig } from '../faults';
import { htmlErrorPage, httpLogErrors } from './errors';
import { readBody, sendBody, sendHtml, sendJson } from './http-io';
import { normaliseEncoding, payloadTooLargeDetail, validateIntake, type ReceivedLog } from './intake-validation';
import {
  INTAKE_PATH,
  MAX_ITEMS_PER_REQUEST,
  MAX_RAW_BODY_BYTES_COMPRESSED,
  MAX_UNCOMPRESSED_PAYLOAD_BYTES,
} from './limits';
import { LogsIndex } from './logs-index';
import { LogsReadApi, type ReadPermission } from './read-api';
import { isOutsideIntakeWindow, officialTimestamp } from './timestamps';

export type { ReceivedLog } from './intake-validation';

export interface DatadogSimulatorOptions {
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  /** Accepted values of the DD-API-KEY header. */
  apiKeys: string[];
  /** Seed for the fault draws (deterministic faults). Default 1. */
  seed?: number;
  /** Count accepted items without keeping them (benchmarks of millions of logs). Default false. */
  countOnly?: boolean;
  /** Application keys of the read APIs and their permissions (none: every read is refused). */
  applicationKeys?: Record<string, readonly ReadPermission[]>;
}

export interface IntakeRequestRecord {
  /** Arrival time, ms since epoch. */
  at: number;
  /** HTTP status answered, or 'dropped' when the socket was destroyed instead. */
  status: number | 'dropped';
  /** Normalised Content-Encoding ('identity' when absent). */
  encoding: string;
  /** Body bytes on the wire (0 when the connection was dropped before reading it). */
  compressedBytes: number;
  /** Body bytes after decompression (0 when it was not decompressed). */
  uncompressedBytes: number;
  /**
   * Items accepted from this request (0 unless it was accepted). Includes items then set aside in
   * `droppedAsStale`, since Datadog answers 202 for them too; see `staleCount`.
   */
  itemCount: number;
  /** Of `itemCount`, how many were dropped by the 18 h / 2 h timestamp rule (absent when 0). */
  staleCount?: number;
  /** For a request refused by the poison predicate: indexes (within the request) of the matching items. */
  poisonIndexes?: number[];
  /** 'server_error_html' | 'rate_limited' | 'slow' | 'malformed_json' | 'drop_connection' | 'drop_after_accept' | 'outage'. */
  fault?: string;
  /** The `ddtags` query parameter, if any. */
  ddtags?: string;
  /** The `detail` of the error body for 4xx answers. */
  detail?: string;
}

export interface TruncatedRecord {
  /** Index into `received`. */
  index: number;
  /** Serialized size of the item as sent (> 1,000,000). */
  originalBytes: number;
}

/** A log Datadog accepted (202) but dropped because its timestamp is outside the intake window. */
export interface StaleRecord {
  item: ReceivedLog;
  /** The official timestamp it was given (see `officialTimestamp`). */
  timestampMs: number;
}

export type DatadogFaultConfig = FaultConfig & {
  /** Probability in [0, 1] that an otherwise-accepted request is stored but answered by a dropped socket. */
  dropAfterAccept?: number;
};

export class DatadogSimulator {
  readonly url: string;
  readonly intakeUrl: string;

  private readonly server: http.Server;
  private readonly random: () => number;
  private readonly faults: FaultInjector;
  private dropAfterAccept = 0;
  private apiKeys: Set<string>;
  private outage: { on: boolean; status: number } = { on: false, status: 503 };
  private readonly items: ReceivedLog[] = [];
  private readonly truncatedItems: TruncatedRecord[] = [];
  private readonly requestLog: IntakeRequestRecord[] = [];
  private readonly staleItems: StaleRecord[] = [];
  private poison: ((item: ReceivedLog) => boolean) | undefined;
  private readonly countOnly: boolean;
  private kept = 0;
  private keptStale = 0;
  private maxPayloadBytes = MAX_UNCOMPRESSED_PAYLOAD_BYTES;
  private maxItems = MAX_ITEMS_PER_REQUEST;
  private clock: () => number = Date.now;
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  /** The index the read APIs see: quota, exclusion filters, indexing delay, drops after a 202 (./logs-index.ts). */
  readonly index = new LogsIndex();
  /** The read APIs: application keys, read faults, rate limit, requests seen (./read-api.ts). */
  readonly reads: LogsReadApi;

  private constructor(server: http.Server, opts: DatadogSimulatorOptions) {
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.intakeUrl = `${this.url}${INTAKE_PATH}`;
    this.random = seededRandom(opts.seed ?? 1);
    this.faults = new FaultInjector(this.random);
    this.apiKeys = new Set(opts.apiKeys);
    this.countOnly = opts.countOnly ?? false;
    this.reads = new LogsReadApi({ index: this.index, now: () => this.clock(), apiKeys: () => this.apiKeys });
    this.reads.setApplicationKeys(opts.applicationKeys ?? {});
  }

  /** Items accepted within the timestamp window so far (also in countOnly mode). */
  get receivedCount(): number {
    return this.kept;
  }

  /** Items accepted but dropped by the timestamp rule so far (also in countOnly mode). */
  get staleCount(): number {
    return this.keptStale;
  }

  static start(opts: DatadogSimulatorOptions): Promise<DatadogSimulator> {
    const server = http.createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        const sim = new DatadogSimulator(server, opts);
        server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
          sim.handle(req, res).catch((err: unknown) => {
            if (!res.headersSent && !res.destroyed) {
              sendJson(res, 500, httpLogErrors(500, `simulator error: ${(err as Error).message}`));
            }
          });
        });
        resolve(sim);
      });
    });
  }

  /** Every accepted item within the timestamp window, in arrival order. */
  get received(): readonly ReceivedLog[] {
    return this.items;
  }

  /** Items over 1,000,000 bytes: Datadog accepts them (202) but truncates them. */
  get truncated(): readonly TruncatedRecord[] {
    return this.truncatedItems;
  }

  /** One record per `POST /api/v2/logs` request, in arrival order of completion. */
  get requests(): readonly IntakeRequestRecord[] {
    return this.requestLog;
  }

  /** Requests held back by a `slow` fault right now (arrived, not answered yet). */
  get requestsInFlight(): number {
    return this.sleepers.size;
  }

  /**
   * Items accepted (202) but dropped because their official timestamp was more than 18 h before
   * receipt or more than 2 h after it. They are not in `received`.
   */
  get droppedAsStale(): readonly StaleRecord[] {
    return this.staleItems;
  }

  /**
   * While set, a request with at least one item for which `predicate` returns true is answered
   * 400 (HTTPLogErrors body) and nothing of it is stored. `undefined` turns it off.
   */
  setPoison(predicate: ((item: ReceivedLog) => boolean) | undefined): void {
    this.poison = predicate;
  }

  /** Uncompressed payload limit in bytes; larger → 413. `undefined` restores 5,000,000. */
  setMaxPayloadBytes(n: number | undefined): void {
    this.maxPayloadBytes = n === undefined ? MAX_UNCOMPRESSED_PAYLOAD_BYTES : positiveInteger('maxPayloadBytes', n);
  }

  /** Most entries per request; more → 400. `undefined` restores 1,000. */
  setMaxItems(n: number | undefined): void {
    this.maxItems = n === undefined ? MAX_ITEMS_PER_REQUEST : positiveInteger('maxItems', n);
  }

  /**
   * The clock (epoch ms) the timestamp window is measured against. `undefined` restores Date.now.
   * Only the timestamp rule uses it: `requests[].at` stays wall-clock time.
   */
  setClock(clock: (() => number) | undefined): void {
    this.clock = clock ?? Date.now;
  }

  setApiKeys(keys: string[]): void {
    this.apiKeys = new Set(keys);
  }

  setFaults(config: DatadogFaultConfig): void {
    const { dropAfterAccept = 0, ...rest } = config;
    if (!(dropAfterAccept >= 0 && dropAfterAccept <= 1)) {
      throw new RangeError(`dropAfterAccept must be in [0,1], got ${dropAfterAccept}`);
    }
    this.faults.set(rest);
    this.dropAfterAccept = dropAfterAccept;
  }

  /** While on, every request is answered `status` with an HTML body, and nothing is stored. */
  setOutage(on: boolean, status = 503): void {
    this.outage = { on, status };
  }

  /** Forgets received items, truncation marks, stale drops and request records (in place). */
  clear(): void {
    this.items.length = 0;
    this.kept = 0;
    this.keptStale = 0;
    this.staleItems.length = 0;
    this.truncatedItems.length = 0;
    this.requestLog.length = 0;
    this.index.clear();
  }

  /** Resolves once at least `count` items have been received; rejects after `timeoutMs`. */
  async waitForItems(count: number, timeoutMs = 5000): Promise<readonly ReceivedLog[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length < count) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${count} items (have ${this.items.length})`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.items;
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopped = true;
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
    this.stopping = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.stopping;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', this.url);
    const isIntake = url.pathname === INTAKE_PATH;
    const encoding = normaliseEncoding(req.headers['content-encoding']);
    const ddtags = url.searchParams.get('ddtags') ?? undefined;
    const record = (r: Omit<IntakeRequestRecord, 'at' | 'encoding' | 'ddtags'>): void => {
      const full: IntakeRequestRecord = { at, encoding, ...r };
      if (ddtags !== undefined) full.ddtags = ddtags;
      this.requestLog.push(full);
    };
    const maxPayloadBytes = this.maxPayloadBytes;
    const maxItems = this.maxItems;
    const cap = encoding === 'identity' ? maxPayloadBytes : rawCapCompressed(maxPayloadBytes);

    if (this.outage.on) {
      const status = this.outage.status;
      const body = await readBody(req, cap);
      if (!body || this.stopped) return;
      if (isIntake && req.method === 'POST') {
        record({ status, compressedBytes: body.bytes, uncompressedBytes: 0, itemCount: 0, fault: 'outage' });
      }
      sendHtml(res, status, htmlErrorPage(status));
      return;
    }

    if (LogsReadApi.handles(url.pathname)) return this.reads.handle(req, res, url);
    if (!isIntake) {
      const body = await readBody(req, cap);
      if (!body) return;
      sendJson(res, 404, httpLogErrors(404, `no route for ${req.method ?? '?'} ${url.pathname}`));
      return;
    }
    if (req.method !== 'POST') {
      const body = await readBody(req, cap);
      if (!body) return;
      sendJson(res, 405, httpLogErrors(405, `method ${req.method ?? '?'} not allowed on ${INTAKE_PATH}`), {
        Allow: 'POST',
      });
      return;
    }

    // Faults are drawn once per intake request, before anything is accepted.
    const fault = this.faults.draw();
    const dropAfterAccept = fault === undefined && this.dropAfterAccept > 0 && this.random() < this.dropAfterAccept;

    if (fault?.kind === 'drop_connection') {
      record({ status: 'dropped', compressedBytes: 0, uncompressedBytes: 0, itemCount: 0, fault: fault.kind });
      req.socket.destroy();
      return;
    }

    const body = await readBody(req, cap);
    if (!body || this.stopped) return;
    const compressedBytes = body.bytes;

    if (fault) {
      switch (fault.kind) {
        case 'server_error_html': {
          const status = this.random() < 0.5 ? 500 : 503;
          record({ status, compressedBytes, uncompressedBytes: 0, itemCount: 0, fault: fault.kind });
          sendHtml(res, status, htmlErrorPage(status));
          return;
        }
        case 'rate_limited':
          record({ status: 429, compressedBytes, uncompressedBytes: 0, itemCount: 0, fault: fault.kind });
          sendJson(res, 429, httpLogErrors(429, 'rate limit exceeded'), {
            'Retry-After': String(fault.retryAfterSeconds),
          });
          return;
        case 'malformed_json':
          // A 500 whose body is not JSON at all even though it claims to be (cut-off error body).
          record({ status: 500, compressedBytes, uncompressedBytes: 0, itemCount: 0, fault: fault.kind });
          sendBody(res, 500, 'application/json', '{"errors":[{"status":"50');
          return;
        case 'slow':
          await this.sleep(fault.slowMs);
          if (this.stopped) return;
          break; // then answer normally
      }
    }
    const faultTag = fault ? { fault: fault.kind } : {};

    const reject = (status: number, detail: string, uncompressedBytes = 0): void => {
      record({ status, compressedBytes, uncompressedBytes, itemCount: 0, detail, ...faultTag });
      sendJson(res, status, httpLogErrors(status, detail));
    };

    const header = req.headers['dd-api-key'];
    const apiKey = Array.isArray(header) ? header[0] : header;
    if (apiKey === undefined || apiKey.trim() === '') {
      reject(401, 'API key is missing (DD-API-KEY header)');
      return;
    }
    if (!this.apiKeys.has(apiKey.trim())) {
      reject(403, 'API key is invalid');
      return;
    }
    if (body.raw === undefined) {
      reject(413, payloadTooLargeDetail(maxPayloadBytes));
      return;
    }

    const result = validateIntake(body.raw, encoding, { maxPayloadBytes, maxItems });
    if (!result.ok) {
      reject(result.status, result.detail, result.uncompressedBytes ?? 0);
      return;
    }

    const poison = this.poison;
    if (poison) {
      const poisonIndexes = result.items.flatMap(({ item }, i) => (poison(item) ? [i] : []));
      if (poisonIndexes.length > 0) {
        const detail = `payload refused: log ${poisonIndexes.length === 1 ? 'entry' : 'entries'} ${poisonIndexes.join(', ')} rejected`;
        record({
          status: 400,
          compressedBytes,
          uncompressedBytes: result.uncompressedBytes,
          itemCount: 0,
          detail,
          poisonIndexes,
          ...faultTag,
        });
        sendJson(res, 400, httpLogErrors(400, detail));
        return;
      }
    }

    const receivedAt = this.clock();
    let staleCount = 0;
    for (const { item, bytes, truncated } of result.items) {
      const { timestampMs } = officialTimestamp(item, receivedAt);
      if (isOutsideIntakeWindow(timestampMs, receivedAt)) {
        if (!this.countOnly) this.staleItems.push({ item, timestampMs });
        this.keptStale++;
        staleCount++;
        continue;
      }
      this.kept++;
      if (this.countOnly) continue;
      this.index.ingest(item, timestampMs, ddtags, receivedAt);
      if (truncated) this.truncatedItems.push({ index: this.items.length, originalBytes: bytes });
      this.items.push(item);
    }
    const accepted = {
      compressedBytes,
      uncompressedBytes: result.uncompressedBytes,
      itemCount: result.items.length,
      ...(staleCount > 0 ? { staleCount } : {}),
    };
    if (dropAfterAccept) {
      record({ status: 'dropped', ...accepted, fault: 'drop_after_accept' });
      req.socket.destroy();
      return;
    }
    record({ status: 202, ...accepted, ...faultTag });
    sendJson(res, 202, {});
  }
}

function positiveInteger(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}

/**
 * Memory guard for a compressed body. With the default limit it is MAX_RAW_BODY_BYTES_COMPRESSED;
 * a lowered limit keeps some absolute head-room for the gzip/deflate framing.
 */
function rawCapCompressed(maxPayloadBytes: number): number {
  if (maxPayloadBytes === MAX_UNCOMPRESSED_PAYLOAD_BYTES) return MAX_RAW_BODY_BYTES_COMPRESSED;
  return Math.max(2 * maxPayloadBytes, maxPayloadBytes + 4096);
}
