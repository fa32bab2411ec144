/**
 * Heartbeats of an activity that makes several Kandji requests in a row: checked before and after each request, a
 * heartbeat goes out whenever PULSE_MS passed since the last one (or since the pulse began). Slow answers in a row
 * thus never outlast the activity's heartbeat timeout, while a single quick request (an idle poll) sends none: each
 * heartbeat recorded is a billed action. The SDK throttles what is sent further.
 */
import type { Context } from '@temporalio/activity';

/** Well within the 1-minute heartbeat timeout, with a Kandji request (30 s at most) between two checks. */
export const PULSE_MS = 10_000;

export interface Pulse {
  /** Heartbeats if PULSE_MS passed since the last heartbeat. */
  check: () => void;
  /** Heartbeats now (while waiting for budget or a 429's Retry-After). */
  beat: () => void;
}

/** `details`: what every heartbeat carries (a ship attempt's progress must survive a slow read). */
export function heartbeatPulse(ctx: Context, details: unknown, now: () => number = Date.now): Pulse {
  let last = now();
  const beat = () => {
    last = now();
    ctx.heartbeat(details);
  };
  return {
    beat,
    check: () => {
      if (now() - last >= PULSE_MS) beat();
    },
  };
}
