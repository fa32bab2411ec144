/**
 * The ApplicationFailure types the activities raise, one per failure mode of Kandji and Datadog.
 * Shared by the activities (which throw them), the workflow (which reacts to them) and the tests.
 * What raises each, whether it is retried or benign, and what the stream shows after it: the failure policy
 * (workflows/shared/failure-policy.ts).
 */
export const FailureType = {
  /** 401/403 from Kandji: token wrong, revoked, or missing a permission. */
  KandjiAuth: 'KandjiAuthError',
  /**
   * The tenant's token variable or file is missing, unreadable or empty (tenants file): raised before any request,
   * not retried; the stream goes `blocked` with the reason and re-checks like a rejected token.
   */
  KandjiTokenMissing: 'KandjiTokenMissingError',
  /** 429 from Kandji: the tenant's hourly budget is spent. Retried after Retry-After. */
  KandjiRateLimited: 'KandjiRateLimitedError',
  /** 5xx, timeouts, resets: retried with backoff. */
  KandjiUnavailable: 'KandjiUnavailableError',
  /** A 2xx whose body is not the JSON envelope we expect (HTML, truncated JSON, …). Retried. */
  KandjiBadResponse: 'KandjiBadResponseError',
  /** 404 on a stream's endpoint: the feature is not licensed for this tenant. */
  KandjiNotFound: 'KandjiNotFoundError',
  /** Other 4xx: our request was refused; retrying the same request cannot help. */
  KandjiRequestRejected: 'KandjiRequestRejectedError',
  /** A `next` link pointing outside the configured Kandji origin: refused, the token is never sent there. */
  KandjiUnsafeLink: 'KandjiUnsafeLinkError',
  /** 401/403 from Datadog: API key missing or invalid. */
  DatadogAuth: 'DatadogAuthError',
  /** 429 from Datadog. */
  DatadogRateLimited: 'DatadogRateLimitedError',
  /** 408, 5xx, timeouts, resets. */
  DatadogUnavailable: 'DatadogUnavailableError',
  /** 400: Datadog refused the payload. */
  DatadogRejected: 'DatadogRejectedError',
  /**
   * Datadog (or a proxy before it) refuses everything: nothing of a batch was accepted, more than 50 records of a
   * page were refused, or it answered 404/405/407/415 (a wrong DD_LOGS_URL, a proxy). Not a record's fault: nothing
   * is dead-lettered, the stream goes `blocked` with the answer and re-checks like rejected credentials.
   */
  DatadogRefusedAll: 'DatadogRefusedAllError',
  /** 413: a single item alone is over Datadog's payload limit. */
  DatadogPayloadTooLarge: 'DatadogPayloadTooLargeError',
  /** Not an error: the tenant's request budget (or a 429) has no slot within this attempt; details[0].waitMs says when. */ KandjiBudgetWait:
    'KandjiBudgetWaitError',
  /**
   * Not an error: a snapshot stream's poll (a sweep run by its activity's retry policy, see
   * activities/sweep-snapshot-state.ts) found nothing new, or is not due yet. BENIGN; retried after the poll interval.
   */
  SnapshotUnchanged: 'SnapshotUnchangedError',
  /**
   * Not an error: the worker asked to ship a page it read no longer holds it, and was given the cursor without its
   * digest (activities/ship-audit-page.ts): the workflow ships the page from the shared queue with the whole cursor.
   */
  PageNotHeld: 'PageNotHeldError',
  /** A chunk of a snapshot stream's state is gone: not retried; `blocked` until `reset-state`. */
  SnapshotStateMissing: 'SnapshotStateMissingError',
  /** The worker has no configuration for the tenant named in the workflow. */
  UnknownTenant: 'UnknownTenantError',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];
