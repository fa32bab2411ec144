/**
 * Maps each failure mode of Kandji and Datadog to one ApplicationFailure type (workflows/shared/failure-types.ts),
 * retryable or not, with `nextRetryDelay` where the remote said when to come back.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { DatadogRefusedAll } from '../src/datadog/shipper';
import { RemoteError, type RemoteFailureKind } from '../src/remote-errors';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES, type FailureTypeName } from '../workflows/shared/failure-types';

const KANDJI: Record<RemoteFailureKind, FailureTypeName> = {
  auth: FailureType.KandjiAuth,
  rate_limited: FailureType.KandjiRateLimited,
  unavailable: FailureType.KandjiUnavailable,
  bad_response: FailureType.KandjiBadResponse,
  not_found: FailureType.KandjiNotFound,
  rejected: FailureType.KandjiRequestRejected,
  too_large: FailureType.KandjiRequestRejected,
  unsafe_link: FailureType.KandjiUnsafeLink,
};

const DATADOG: Record<RemoteFailureKind, FailureTypeName> = {
  auth: FailureType.DatadogAuth,
  rate_limited: FailureType.DatadogRateLimited,
  unavailable: FailureType.DatadogUnavailable,
  bad_response: FailureType.DatadogUnavailable,
  not_found: FailureType.DatadogRejected,
  rejected: FailureType.DatadogRejected,
  too_large: FailureType.DatadogPayloadTooLarge,
  unsafe_link: FailureType.DatadogRejected,
};

export function failureTypeOf(err: RemoteError): FailureTypeName {
  return (err.service === 'kandji' ? KANDJI : DATADOG)[err.kind];
}

/** Answers by which a remote says "later": request timeout, rate limit, bad gateway, overloaded, gateway timeout. */
const LATER_STATUSES = [408, 429, 502, 503, 504];

/**
 * Whether a remote failure is expected and heals by itself within the activity's retries: a rate limit, an answer
 * that says "later", or a connection that broke before any answer. These are marked BENIGN: the SDK logs such a
 * failed attempt at debug instead of warn and records no activity failure metric for it, so they page no one.
 * They stay visible: the per-status request counters count them, and when the retries run out the stream workflow
 * logs the step's failure at warn and its status shows `retrying`. Rejected credentials or requests, a 500, an
 * unreadable answer or a missing snapshot chunk need someone to look: ordinary failures. A feature the tenant has no
 * licence for (behavioral detections without EDR) is not a fault either: BENIGN too; the stream shows `unavailable`.
 */
export function isSelfHealing(err: RemoteError): boolean {
  if (err.kind === 'rate_limited' || err.details.unlicensed === true) return true;
  if (err.kind !== 'unavailable') return false;
  return err.details.network === true || LATER_STATUSES.includes(err.details.status ?? 0);
}

/** Backoff before retry `attempt` (1-based): exponential from 1 s, capped, with "equal jitter" in [d/2, d]. */
export function backoffWithJitterMs(attempt: number, capMs: number, random: () => number = Math.random): number {
  const d = Math.min(capMs, 1_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

/** Longest wait between retries: Kandji recovers fast or not at all; Datadog's Agent backs off up to 2 min. */
export const BACKOFF_CAP_MS = { kandji: 60_000, datadog: 120_000 } as const;

/**
 * Turns a RemoteError into the ApplicationFailure the workflow and Temporal's retry policy act on. A retryable
 * failure carries `nextRetryDelay`: the remote's Retry-After when it gave one, else jittered exponential backoff
 * (Temporal's own backoff has no jitter, and many workers retrying in step would hit the remote together). The
 * RemoteError is its `cause` (with the network error under it, if any): Temporal records the chain with the failure.
 */
export function toApplicationFailure(err: RemoteError, attempt = 1): ApplicationFailure {
  const type = failureTypeOf(err);
  const nonRetryable = NON_RETRYABLE_FAILURE_TYPES.includes(type);
  return ApplicationFailure.create({
    type,
    message: err.message,
    nonRetryable,
    nextRetryDelay: nonRetryable
      ? undefined
      : (err.details.retryAfterMs ?? backoffWithJitterMs(attempt, BACKOFF_CAP_MS[err.service])),
    details: [{ status: err.details.status ?? null, body: err.details.bodySnippet ?? null }],
    cause: err,
    ...(isSelfHealing(err) ? { category: ApplicationFailureCategory.BENIGN } : {}),
  });
}

/** Datadog refuses everything: not retried by Temporal; the stream shows `blocked` with Datadog's answer. */
export function refusedAllFailure(err: DatadogRefusedAll): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.DatadogRefusedAll,
    message: err.message,
    nonRetryable: true,
    details: [{ status: err.status ?? null, body: err.bodySnippet ?? null }],
    cause: err,
  });
}

/** Runs `fn`, rethrowing remote failures as typed ApplicationFailures. Other errors pass unchanged. */
export async function withTypedFailures<T>(fn: () => Promise<T>, attempt = 1): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DatadogRefusedAll) throw refusedAllFailure(err);
    if (err instanceof RemoteError) throw toApplicationFailure(err, attempt);
    throw err;
  }
}
