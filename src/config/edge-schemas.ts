/**
 * Zod schemas of the values that come in at more than one edge of the service — environment variables, the tenants
 * file, CLI arguments — and must mean the same at each: a tenant name, an ISO-8601 time, a human duration. One
 * definition each, so that what one edge accepts the others accept too, with the same message.
 *
 * Not for workflow code: workflows/ must not import zod (workflows/shared/payload-checks.ts says why, and checks the
 * signal and update payloads by hand).
 */
import { z } from 'zod';
import { timestampKey } from '../../workflows/shared/timestamps';
import { parseDuration } from '../duration';

/** A tenant name, as it appears in workflow ids and tags: lower-case letters, digits and dashes, 1 to 63 of them. */
export const TENANT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const tenantName = z.string().regex(TENANT_NAME, 'expected lower-case letters, digits and dashes, e.g. acme');

/** True when `text` is a time the cursors can use (see `timestampKey`): ISO-8601, a time without zone read as UTC. */
export function isIsoTime(text: string): boolean {
  try {
    timestampKey(text);
    return true;
  } catch {
    return false;
  }
}

/** An ISO-8601 time or date, kept as given. */
export const isoTime = z
  .string()
  .refine(isIsoTime, 'expected an ISO-8601 time such as 2026-01-31T08:00:00Z (a time without zone is read as UTC)');

export interface DurationRules {
  /** Put before every message, e.g. the variable's name: `KANDJI_POLL_INTERVAL: must be more than 0`. */
  name?: string;
  /** Refuse 0. */
  moreThanZero?: boolean;
  /** The longest accepted, as a duration (`24h`): a longer one is refused with `must be at most 24h`. */
  atMost?: string;
  /**
   * The one message of any refusal, instead of the precise ones: those quote the value, which must not be shown
   * where it could be a secret pasted in the wrong place (the tenants file).
   */
  message?: string;
}

/**
 * A human duration (`500ms`, `30s`, `5m`, `1h30m`: see src/duration.ts) → milliseconds. For a default, add
 * `.prefault('5m')`: the default is read like a value that was given.
 */
export function durationMs(rules: DurationRules = {}) {
  return z.string().transform((text, ctx) => {
    let ms = 0;
    let problem: string | undefined;
    try {
      ms = parseDuration(text);
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem === undefined && rules.moreThanZero && ms <= 0) problem = 'must be more than 0';
    if (problem === undefined && rules.atMost !== undefined && ms > parseDuration(rules.atMost))
      problem = `must be at most ${rules.atMost}`;
    if (problem === undefined) return ms;
    ctx.addIssue({ code: 'custom', message: rules.message ?? (rules.name ? `${rules.name}: ${problem}` : problem) });
    return z.NEVER;
  });
}
