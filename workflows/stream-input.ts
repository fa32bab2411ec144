/** Arguments of a stream workflow. No secrets: tokens and keys stay in the worker's environment. */
import type { AuditCursor } from './audit-cursor';
import type { StreamStatus } from './stream-status';

export interface StreamTimings {
  /** Wait between polls once caught up. */
  pollIntervalMs: number;
  /** Wait before re-checking credentials Kandji or Datadog rejected. */
  authRecheckMs: number;
  /** Wait before trying again after an activity exhausted its retries. */
  errorBackoffMs: number;
}

export interface AuditStreamInput {
  tenant: string;
  cursor: AuditCursor;
  timings: StreamTimings;
  /** Carried across continue-as-new; absent on the first start. */
  carried?: Pick<StreamStatus, 'counts' | 'startedAt' | 'generation' | 'lastShipAt' | 'caughtUpAt' | 'lastError' | 'lastDeadLetter'>;
}

export const DEFAULT_AUTH_RECHECK_MS = 5 * 60_000;
export const DEFAULT_ERROR_BACKOFF_MS = 30_000;
