/**
 * The retry policy of the stream workflows' activities.
 *
 * The activities set a jittered nextRetryDelay themselves (or the remote's Retry-After), and mark the failures that
 * retrying cannot help as non-retryable (workflows/shared/failure-policy.ts), so the policy needs no list of
 * types (which every scheduled activity would write into history). It bounds how long one activity keeps retrying
 * before the workflow records the error in status and tries again.
 */
import type { ActivityOptions } from '@temporalio/workflow';

export function activityRetry(
  maximumAttempts: number,
  maximumInterval: '1 minute' | '2 minutes' = '2 minutes',
): ActivityOptions['retry'] {
  return { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval, maximumAttempts };
}
