/**
 * HTTP client of Datadog's logs intake (POST /api/v2/logs): gzip bodies, DD-API-KEY, a timeout on every
 * request, and every failure classified as a RemoteError. Used only by activities.
 */
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { RemoteError, kindOfStatus, networkError, retryAfterMs, snippet } from '../remote-errors';

export interface DatadogIntakeOptions {
  intakeUrl: string;
  apiKey: string;
  timeoutMs?: number;
  userAgent?: string;
}

export class DatadogIntakeClient {
  private readonly dispatcher: Agent;
  private readonly timeoutMs: number;

  constructor(private readonly opts: DatadogIntakeOptions) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.dispatcher = new Agent({ connections: 4, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
  }

  /** Sends one batch (a serialised JSON array). Resolves when Datadog accepted it (202). */
  async send(jsonArray: string, signal?: AbortSignal): Promise<void> {
    const body = gzipSync(Buffer.from(jsonArray, 'utf8'));
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await request(this.opts.intakeUrl, {
        method: 'POST',
        dispatcher: this.dispatcher,
        signal: combined,
        headers: {
          'dd-api-key': this.opts.apiKey,
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
    throw new RemoteError('datadog', kind === 'not_found' ? 'rejected' : kind, `Datadog answered ${status}: ${snippet(text)}`, {
      status,
      bodySnippet: snippet(text),
      retryAfterMs: kind === 'rate_limited' || kind === 'unavailable' ? retryAfterMs(headers) : undefined,
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
