/**
 * HTTP client of the Kandji API: Bearer auth, a timeout on every request, JSON bodies, and every failure
 * classified as a RemoteError. Used only by activities.
 */
import { Agent, request } from 'undici';
import { RemoteError, kindOfStatus, networkError, retryAfterMs, snippet } from '../remote-errors';
import { budgetWaitFailure, currentAttempt, type Attempt } from './attempt';
import { waitAlive, type RequestGate } from './budget-reservations';

export interface KandjiClientOptions {
  baseUrl: string; // origin, e.g. https://acme.api.kandji.io
  /** The token, or a function returning the current one (a rotated token file); it may throw to refuse. */
  token: string | (() => string);
  /** Whole-request timeout, ms. */
  timeoutMs?: number;
  userAgent?: string;
  /** The tenant's request budget: every request waits for a slot first. */
  gate?: RequestGate;
  /**
   * How long to keep waiting out 429s inside one call before failing (then Temporal retries). Default 15 min, and
   * never past the calling attempt: a longer wait ends it with a benign KandjiBudgetWait failure instead.
   */
  maxRateLimitWaitMs?: number;
  /** The attempt of the calling activity (default: read from the activity context). */
  attempt?: () => Attempt | undefined;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Called while waiting for budget or a 429's Retry-After, to keep the activity's heartbeat alive. */
  keepAlive?: () => void;
}

/** Without a Retry-After, a 429 is waited out for this long before trying again. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

export class KandjiClient {
  private readonly dispatcher: Agent;
  private readonly token: () => string;
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(private readonly opts: KandjiClientOptions) {
    this.baseUrl = new URL(opts.baseUrl).origin;
    const { token } = opts;
    this.token = typeof token === 'function' ? token : () => token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'kandji-datadog';
    this.dispatcher = new Agent({ connections: 4, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
  }

  /**
   * GETs a path (with query) on the configured origin and returns the parsed JSON body. Waits for the tenant's
   * budget first; a 429 is waited out here (its Retry-After, else a minute) rather than spending a Temporal retry,
   * as long as the attempt outlives the wait; else the attempt ends with a benign KandjiBudgetWait failure and the
   * workflow waits durably.
   */
  async getJson(pathAndQuery: string, signal?: AbortSignal, opts: RequestOptions = {}): Promise<unknown> {
    return (await this.getJsonSized(pathAndQuery, signal, opts)).body;
  }

  /** As getJson, with the size of the body as received (bytes of JSON text). */
  async getJsonSized(
    pathAndQuery: string,
    signal?: AbortSignal,
    opts: RequestOptions = {},
  ): Promise<{ body: unknown; bytes: number }> {
    if (!pathAndQuery.startsWith('/')) throw new Error(`Kandji path must start with /: ${pathAndQuery}`);
    let waited = 0;
    for (;;) {
      // The token first: a missing one fails here, before a slot of the tenant's budget is spent; read again
      // after the (possibly long) budget wait, so a token rotated meanwhile is the one sent.
      this.token();
      await this.opts.gate?.acquire({ keepAlive: opts.keepAlive, signal });
      try {
        return await this.getOnce(pathAndQuery, this.token(), signal);
      } catch (err) {
        const limit = this.opts.maxRateLimitWaitMs ?? 15 * 60_000;
        if (!(err instanceof RemoteError && err.kind === 'rate_limited') || waited >= limit) throw err;
        const wait = Math.max(250, Math.min(err.details.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS, limit - waited));
        const attempt = (this.opts.attempt ?? currentAttempt)();
        if (attempt && Date.now() + wait > attempt.deadline)
          throw budgetWaitFailure(wait, `Kandji answered 429 (rate limited)`, err);
        await waitAlive(wait, opts.keepAlive, signal);
        waited += wait;
      }
    }
  }

  private async getOnce(
    pathAndQuery: string,
    token: string,
    signal?: AbortSignal,
  ): Promise<{ body: unknown; bytes: number }> {
    const url = this.baseUrl + pathAndQuery;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: this.dispatcher,
        signal: combined,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'user-agent': this.userAgent,
          'cache-control': 'no-cache',
        },
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      throw networkError('kandji', err);
    }
    const path = pathAndQuery.split('?')[0];
    if (status < 200 || status >= 300) {
      const kind = kindOfStatus(status);
      throw new RemoteError('kandji', kind, `Kandji answered ${status} for GET ${path}: ${snippet(text)}`, {
        status,
        bodySnippet: snippet(text),
        retryAfterMs: kind === 'rate_limited' ? retryAfterMs(headers) : undefined,
      });
    }
    try {
      return { body: JSON.parse(text) as unknown, bytes: Buffer.byteLength(text) };
    } catch {
      // JSON cut short or mangled may be a page of records: only its size is told (this reaches workflow history).
      // Anything else (a proxy's HTML page) is quoted, which is what tells an operator what answered.
      const records = /^\s*[[{]/.test(text);
      const quoted = records ? undefined : snippet(text);
      throw new RemoteError(
        'kandji',
        'bad_response',
        `Kandji answered ${status} for GET ${path} with a body that is not JSON (${Buffer.byteLength(text)} bytes${records ? ' starting like JSON' : `: ${quoted}`})`,
        { status, bodySnippet: quoted },
      );
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
