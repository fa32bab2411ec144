/**
 * Turns each failure of Kandji and Datadog into the ApplicationFailure its row of the failure policy
 * (workflows/shared/failure-policy.ts) says: its type, retryable or not, benign or not, with `nextRetryDelay` where
 * the remote said when to come back.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { DatadogRefusedAll } from '../src/datadog/shipper';
import { RemoteError } from '../src/remote-errors';
import { FAILURE_POLICY, failureTypeFor } from '../workflows/shared/failure-policy';
import { FailureType, type FailureTypeName } from '../workflows/shared/failure-types';
import { LATER_STATUSES } from '../workflows/shared/remote-answers';

export function failureTypeOf(err: RemoteError): FailureTypeName {
  return failureTypeFor(err.service, err.kind);
}

/**
 * Whether a remote failure is expected and heals by itself within the activity's retries, as its row's `benign`
 * says (workflows/shared/failure-policy.ts): a rate limit, an answer that says "later", a connection that broke
 * before any answer, a feature the tenant has no licence for. These are marked BENIGN: the SDK logs such a failed
 * attempt at debug instead of warn and records no activity failure metric for it, so they page no one. They stay
 * visible: the per-status request counters count them, and when the retries run out the stream workflow logs the
 * step's failure at warn and its status shows its state.
 */
export function isSelfHealing(err: RemoteError): boolean {
  const { benign } = FAILURE_POLICY[failureTypeOf(err)];
  if (benign === 'if later') return err.details.network === true || LATER_STATUSES.includes(err.details.status ?? 0);
  if (benign === 'if unlicensed') return err.details.unlicensed === true;
  return benign === 'always';
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
  const nonRetryable = !FAILURE_POLICY[type].retryable;
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
