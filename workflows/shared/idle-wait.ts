/**
 * The caught-up audit stream's wait for news, inside one activity (activities/await-audit-page.ts): its bounds,
 * shared by the workflow that schedules it and the activity that runs it.
 */

/** How soon a worker that died holding an idle wait is noticed (the wait is then started elsewhere). */
export const IDLE_HEARTBEAT_TIMEOUT_MS = 5 * 60_000;
/** A heartbeat at most this far apart: a Kandji request (30 s at most) after it still ends within the timeout. */
export const IDLE_HEARTBEAT_EVERY_MS = IDLE_HEARTBEAT_TIMEOUT_MS - 60_000;
/**
 * The longest idle wait: then the activity hands back its last empty poll, and the workflow shows the poll, sweeps
 * the late hours due and waits again (one activity start an hour; earlier when a late sweep comes due).
 */
export const IDLE_MAX_WAIT_MS = 60 * 60_000;
