/**
 * One verified hour as `verify` reports it, of any stream: counts only (it lives in history), shared by the activities
 * and the workflow. Audit counts an hour's events; the snapshot streams count the rows whose own time is in the hour.
 */

/** Why an event Kandji holds is not in Datadog's index (activities/verify-reasons.ts explains each). */
export const MISSING_REASONS = ['quota', 'excluded', 'stale', 'lost'] as const;
export type MissingReason = (typeof MISSING_REASONS)[number];

/**
 * `verified`: Datadog holds every event; `explained`: what is missing has a reason that re-shipping cannot fix
 * (quota, excluded, stale); `repaired`: lost events were shipped again and the hour then verified; `gap`: lost events
 * remain; `inconclusive`: Datadog answered in part or not at all (never read as missing); `off`: no application key.
 */
export const VERIFIED_HOUR_RESULTS = ['verified', 'explained', 'repaired', 'gap', 'inconclusive', 'off'] as const;
export type VerifiedHourResult = (typeof VERIFIED_HOUR_RESULTS)[number];

export interface VerifyHourResult {
  /** `YYYY-MM-DDTHH` (UTC). */
  hour: string;
  result: VerifiedHourResult;
  kandji: number;
  datadog: number;
  missing: Record<MissingReason, number>;
  /** Lost events (rows) shipped again. */
  repaired: number;
  /** Datadog read requests made (snapshot streams: 0, their requests are the window's, VerifyStreamResult.requests). */
  requests: number;
  /** Why the hour is inconclusive or off. */
  reason?: string;
}

/** The name of 0.5, when only audit was verified. */
export type VerifyAuditHourResult = VerifyHourResult;

export function verifyRow(hour: string, fields: Partial<VerifyHourResult> = {}): VerifyHourResult {
  return {
    hour,
    result: 'verified',
    kandji: 0,
    datadog: 0,
    missing: { quota: 0, excluded: 0, stale: 0, lost: 0 },
    repaired: 0,
    requests: 0,
    ...fields,
  };
}
