/**
 * The answers of Kandji and Datadog that the HTTP clients tell apart (RemoteError's `kind`, src/remote-errors.ts):
 * the "from" column of the failure policy (workflows/shared/failure-policy.ts).
 */
export type RemoteFailureKind =
  | 'auth' // 401/403
  | 'rate_limited' // 429
  | 'unavailable' // 5xx, 408, timeouts, resets
  | 'bad_response' // 2xx with a body we cannot read
  | 'not_found' // 404
  | 'rejected' // other 4xx, e.g. 400
  | 'too_large' // 413
  | 'unsafe_link'; // a next link outside the configured origin

/** Classifies a non-2xx HTTP status. */
export function kindOfStatus(status: number): RemoteFailureKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 408 || status >= 500) return 'unavailable';
  return 'rejected';
}

/** Answers by which a remote says "later": request timeout, rate limit, bad gateway, overloaded, gateway timeout. */
export const LATER_STATUSES: readonly number[] = [408, 429, 502, 503, 504];
