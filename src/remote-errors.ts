/**
 * How a failed call to Kandji or Datadog is classified: one class of remote failure, with what the remote said
 * (status, first bytes of the body, when to come back). The activities turn these into ApplicationFailures.
 * The kinds, and which HTTP status gives which, are in workflows/shared/remote-answers.ts, beside the failure policy.
 */
import type { RemoteFailureKind } from '../workflows/shared/remote-answers';

export { kindOfStatus, type RemoteFailureKind } from '../workflows/shared/remote-answers';

export class RemoteError extends Error {
  constructor(
    readonly service: 'kandji' | 'datadog',
    readonly kind: RemoteFailureKind,
    message: string,
    /**
     * `network`: no answer came (reset, refused, timeout); `status` is then absent. `unlicensed`: the endpoint is not
     * available to the tenant (a feature it has no licence for): expected, pages no one.
     */
    readonly details: {
      status?: number;
      bodySnippet?: string;
      retryAfterMs?: number;
      network?: boolean;
      unlicensed?: boolean;
    } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RemoteError';
  }
}

/** First bytes of a body, printable, for error messages. Never contains request headers (the token). */
export function snippet(body: string, max = 200): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Reads Retry-After (seconds or an HTTP date) or a Datadog-style `x-ratelimit-reset` (seconds) into milliseconds.
 * `now` is injectable for tests.
 */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  now = Date.now(),
): number | undefined {
  const first = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const ra = first('retry-after')?.trim();
  if (ra) {
    if (/^\d+(\.\d+)?$/.test(ra)) return Math.round(Number(ra) * 1000);
    // An HTTP-date, e.g. "Wed, 21 Oct 2026 07:28:00 GMT".
    if (/^[A-Za-z]{3}, \d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(ra)) {
      const at = Date.parse(ra);
      if (!Number.isNaN(at)) return Math.max(0, at - now);
    }
  }
  const reset = first('x-ratelimit-reset');
  if (reset !== undefined && /^\d+(\.\d+)?$/.test(reset.trim())) return Math.round(Number(reset.trim()) * 1000);
  return undefined;
}

/**
 * Network-level failures (reset, refused, timeout, socket closed) are all worth retrying. The client's own error
 * stays as `cause`: its code and stack say where the connection broke.
 */
export function networkError(service: 'kandji' | 'datadog', err: unknown): RemoteError {
  const e = err as { code?: string; message?: string; name?: string };
  const what = e.code ?? e.name ?? 'network error';
  return new RemoteError(
    service,
    'unavailable',
    `${service} request failed: ${what}${e.message ? ` (${e.message})` : ''}`,
    { network: true },
    { cause: err },
  );
}
