/**
 * The failure policy, one row per failure type: what raises it, whether Temporal retries it, whether it is benign,
 * and what the stream shows once the activity's retries are spent. The activities read it to build their failures
 * (activities/failures.ts), the stream workflows to show them (stateAfter in workflows/stream-runtime.ts);
 * test/unit/failure-policy.test.ts checks that what they do is what a row says.
 */
import type { FailedState } from '../failing-steps';
import { FailureType, type FailureTypeName } from './failure-types';
import type { RemoteFailureKind } from './remote-answers';

export interface FailurePolicy {
  /** The Kandji answers that raise it (RemoteError kinds: the statuses of each are in remote-answers.ts). */
  kandji?: readonly RemoteFailureKind[];
  /** The Datadog answers that raise it. */
  datadog?: readonly RemoteFailureKind[];
  /** What raises it without a remote answer of its own. */
  local?: string;
  /** Whether Temporal retries it within the activity's retry policy (else it is raised `nonRetryable`). */
  retryable: boolean;
  /**
   * Whether it is raised with the BENIGN category (expected and self-healing: the SDK logs the failed attempt at
   * debug and records no failure metric): `always`, `never`, `if later` (only when the remote said "later", one of
   * LATER_STATUSES in remote-answers.ts, or no answer came: a broken connection) or `if unlicensed` (only for an
   * endpoint the tenant has no licence for).
   */
  benign: 'always' | 'never' | 'if later' | 'if unlicensed';
  /**
   * What the stream shows once the activity's retries are spent: `blocked` (needs someone; re-checked slowly),
   * `unavailable` (not licensed; re-checked slowly) or `retrying` (tried again after the error backoff).
   */
  state: FailedState;
}

export const FAILURE_POLICY: { readonly [T in FailureTypeName]: FailurePolicy } = {
  [FailureType.KandjiAuth]: { kandji: ['auth'], retryable: false, benign: 'never', state: 'blocked' },
  [FailureType.KandjiTokenMissing]: {
    local: "the tenant's token variable or file is missing, unreadable or empty",
    retryable: false,
    benign: 'never',
    state: 'blocked',
  },
  [FailureType.KandjiRateLimited]: { kandji: ['rate_limited'], retryable: true, benign: 'always', state: 'retrying' },
  [FailureType.KandjiUnavailable]: {
    kandji: ['unavailable'],
    local: 'the request budget did not answer a reservation in time',
    retryable: true,
    benign: 'if later',
    state: 'retrying',
  },
  [FailureType.KandjiBadResponse]: { kandji: ['bad_response'], retryable: true, benign: 'never', state: 'blocked' },
  [FailureType.KandjiNotFound]: {
    kandji: ['not_found'],
    retryable: false,
    benign: 'if unlicensed',
    state: 'unavailable',
  },
  [FailureType.KandjiRequestRejected]: {
    kandji: ['rejected', 'too_large'],
    retryable: false,
    benign: 'never',
    state: 'retrying',
  },
  [FailureType.KandjiUnsafeLink]: { kandji: ['unsafe_link'], retryable: false, benign: 'never', state: 'blocked' },
  [FailureType.DatadogAuth]: { datadog: ['auth'], retryable: false, benign: 'never', state: 'blocked' },
  [FailureType.DatadogRateLimited]: { datadog: ['rate_limited'], retryable: true, benign: 'always', state: 'retrying' },
  [FailureType.DatadogUnavailable]: {
    datadog: ['unavailable', 'bad_response'],
    retryable: true,
    benign: 'if later',
    state: 'retrying',
  },
  [FailureType.DatadogRejected]: {
    datadog: ['rejected', 'not_found', 'unsafe_link'],
    retryable: false,
    benign: 'never',
    state: 'retrying',
  },
  [FailureType.DatadogRefusedAll]: {
    local: 'the shipper finds Datadog refusing everything (DatadogRefusedAll in src/datadog/shipper.ts)',
    retryable: false,
    benign: 'never',
    state: 'blocked',
  },
  [FailureType.DatadogPayloadTooLarge]: {
    datadog: ['too_large'],
    retryable: false,
    benign: 'never',
    state: 'retrying',
  },
  // The stream workflow waits this one out (workflows/request-budget.ts, budgetWaitOf): it never shows in status.
  [FailureType.KandjiBudgetWait]: {
    local: 'the request budget has no slot within the attempt',
    retryable: false,
    benign: 'always',
    state: 'retrying',
  },
  [FailureType.SnapshotUnchanged]: {
    local: 'a snapshot poll found nothing new, or is not due yet',
    retryable: true,
    benign: 'always',
    state: 'retrying',
  },
  // The audit stream ships the page from the shared queue instead (workflows/audit-page-steps.ts): never in status.
  [FailureType.PageNotHeld]: {
    local: 'the worker asked to ship a page no longer holds it',
    retryable: false,
    benign: 'always',
    state: 'retrying',
  },
  [FailureType.SnapshotStateMissing]: {
    local: "a chunk of a snapshot stream's state is gone",
    retryable: false,
    benign: 'never',
    state: 'blocked',
  },
  [FailureType.UnknownTenant]: {
    local: 'the worker has no configuration for the tenant',
    retryable: false,
    benign: 'never',
    state: 'retrying',
  },
};

/** The row of a failure type; undefined for an error of another type (a timeout, a plain Error). */
export function policyOf(type: string): FailurePolicy | undefined {
  return Object.hasOwn(FAILURE_POLICY, type) ? FAILURE_POLICY[type as FailureTypeName] : undefined;
}

/** The types a retry policy must not retry: the rows not `retryable`. */
export const NON_RETRYABLE_FAILURE_TYPES: readonly FailureTypeName[] = (
  Object.keys(FAILURE_POLICY) as FailureTypeName[]
).filter((type) => !FAILURE_POLICY[type].retryable);

/** The failure type of a remote answer: the row that lists `kind` for `service`. */
export function failureTypeFor(service: 'kandji' | 'datadog', kind: RemoteFailureKind): FailureTypeName {
  const type = (Object.keys(FAILURE_POLICY) as FailureTypeName[]).find((t) =>
    FAILURE_POLICY[t][service]?.includes(kind),
  );
  if (type === undefined) throw new Error(`the failure policy has no row for ${service} answering ${kind}`);
  return type;
}
