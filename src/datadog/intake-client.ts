/**
 * HTTP client of Datadog's logs intake (POST /api/v2/logs): gzip bodies, DD-API-KEY, timeouts on every request,
 * and every failure classified as a RemoteError. Used only by activities.
 *
 * Each client owns its connection pool (the worker builds one per tenant, so one tenant's backlog or slow answers
 * never queue another's requests). The timeouts count only time on a connection, never time queued for one:
 * connecting (`connect.timeout`), waiting for the answer's headers from the moment the request is written
 * (`headersTimeout`, refreshed while the body uploads) and between body chunks (`bodyTimeout`). A whole-request
 * timer started before queueing would fail requests that merely waited their turn in a busy pool.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Agent, request } from 'undici';
import { RemoteError, kindOfStatus, networkError, retryAfterMs, snippet } from '../remote-errors';

// Compressed on libuv's thread pool, off the event loop: the worker keeps running workflow tasks meanwhile.
const gzipAsync = promisify(gzip);

export interface DatadogIntakeOptions {
  intakeUrl: string;
  /** The key, or a function giving the current one (a key file re-read on rotation). */
  apiKey: string | (() => string);
  /** Connect, answer-headers and body-idle timeout, ms; queueing for a connection is not counted. Default 30 s. */
  timeoutMs?: number;
  /** Connections of this client's pool. Default 4. */
  connections?: number;
  userAgent?: string;
}

export class DatadogIntakeClient {
  private readonly dispatcher: Agent;
  private readonly timeoutMs: number;

  constructor(private readonly opts: DatadogIntakeOptions) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.dispatcher = new Agent({
      connections: opts.connections ?? 4,
      connect: { timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /**
   * Sends one batch (a serialised JSON array). Resolves when Datadog accepted it (202). `signal` (the activity's
   * cancellation) aborts it whether queued or in flight.
   */
  async send(jsonArray: string, signal?: AbortSignal): Promise<void> {
    const body = await gzipAsync(Buffer.from(jsonArray, 'utf8'));
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await request(this.opts.intakeUrl, {
        method: 'POST',
        dispatcher: this.dispatcher,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        headers: {
          'dd-api-key': typeof this.opts.apiKey === 'function' ? this.opts.apiKey() : this.opts.apiKey,
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'user-agent': this.opts.userAgent ?? 'kandji-datadog',
        },
        body,
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      throw networkError('datadog', err);
    }
    if (status >= 200 && status < 300) return;
    const kind = kindOfStatus(status);
    throw new RemoteError(
      'datadog',
      kind === 'not_found' ? 'rejected' : kind,
      `Datadog answered ${status}: ${snippet(text)}`,
      {
        status,
        bodySnippet: snippet(text),
        retryAfterMs: kind === 'rate_limited' || kind === 'unavailable' ? retryAfterMs(headers) : undefined,
      },
    );
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
