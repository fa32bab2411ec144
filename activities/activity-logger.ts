/**
 * The logger for code that runs inside an activity: the activities' pino logger, bound to the ids of the activity
 * running now, so every line can be traced to the workflow run and the attempt that wrote it. The field names are
 * the SDK's own for activity log attributes, so our lines and the SDK's ("Activity failed", …) share the same facets.
 *
 * Not `Context.current().log`: that logger writes through the process-wide Runtime logger, not the logger given in
 * ActivityDeps (a test's capture, a script's), tags every line as the SDK's and filters at the SDK's coarser level,
 * and exists only inside an activity. Outside an activity (unit tests, scripts) this is the plain logger.
 */
import { Context, type Info } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { ActivityDeps } from './deps';

/** Who is logging: the workflow run and the activity attempt. The task token is left out (it completes the activity). */
export function activityLogFields(info: Info): Record<string, string | number> {
  return {
    ...(info.workflowExecution
      ? { workflowId: info.workflowExecution.workflowId, workflowRunId: info.workflowExecution.runId }
      : {}),
    ...(info.workflowType ? { workflowType: info.workflowType } : {}),
    activityId: info.activityId,
    activityType: info.activityType,
    attempt: info.attempt,
    taskQueue: info.taskQueue,
  };
}

/** `deps.logger` with the running activity's ids (when there is one) and `bindings` (tenant, stream, …). */
export function activityLogger(deps: Pick<ActivityDeps, 'logger'>, bindings: Record<string, unknown> = {}): Logger {
  let info: Info | undefined;
  try {
    info = Context.current().info;
  } catch {
    // not inside an activity
  }
  return deps.logger.child(info ? { ...activityLogFields(info), ...bindings } : bindings);
}
