/**
 * Maps each failure mode of Kandji and Datadog to one ApplicationFailure type (workflows/failure-types.ts),
 * retryable or not, with `nextRetryDelay` where the remote said when to come back.
 */
import { ApplicationFailure } from '@temporalio/common';
import { RemoteError, type RemoteFailureKind } from '../src/remote-errors';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES, type FailureTypeName } from '../workflows/failure-types';

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

/** Turns a RemoteError into the ApplicationFailure the workflow and Temporal's retry policy act on. */
export function toApplicationFailure(err: RemoteError): ApplicationFailure {
  const type = failureTypeOf(err);
  return ApplicationFailure.create({
    type,
    message: err.message,
    nonRetryable: NON_RETRYABLE_FAILURE_TYPES.includes(type),
    nextRetryDelay: err.details.retryAfterMs,
    details: [{ status: err.details.status ?? null, body: err.details.bodySnippet ?? null }],
  });
}

/** Runs `fn`, rethrowing remote failures as typed ApplicationFailures. Other errors pass unchanged. */
export async function withTypedFailures<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RemoteError) throw toApplicationFailure(err);
    throw err;
  }
}
