/**
 * Checks of signal and update payloads inside workflow code, with zod's `safeParse` shape so that callers read the
 * same. Hand-written rather than zod: zod's module state is copied into every workflow the worker caches (measured:
 * about 0.9 MB of memory per cached workflow with zod in the bundle, 0.2 MB without), and these payloads are four
 * small objects. Every other edge (environment, CLI arguments, API answers) uses zod.
 */
import { timestampKey } from './timestamps';

export interface Issue {
  path: (string | number)[];
  message: string;
}

export type Parsed<T> = { success: true; data: T } | { success: false; error: { issues: Issue[] } };

export interface PayloadCheck<T> {
  safeParse(value: unknown): Parsed<T>;
}

const ISO_TIME = 'expected an ISO-8601 time such as 2026-11-27T08:00:00Z (a time without zone is read as UTC)';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An object with exactly the given fields: each field's check returns a problem, or undefined when fine (an absent
 * optional field is passed as undefined). `whole` checks the object once every field passed.
 */
export function strictObject<T>(
  fields: Record<keyof T & string, (v: unknown) => string | undefined>,
  whole?: (v: T) => string | undefined,
): PayloadCheck<T> {
  return {
    safeParse(value: unknown): Parsed<T> {
      if (!isPlainObject(value))
        return {
          success: false,
          error: {
            issues: [
              {
                path: [],
                message: `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
              },
            ],
          },
        };
      const issues: Issue[] = [];
      const unknownKeys = Object.keys(value).filter((k) => !(k in fields));
      if (unknownKeys.length)
        issues.push({
          path: [],
          message: `unrecognized key${unknownKeys.length > 1 ? 's' : ''}: ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')}`,
        });
      for (const [key, check] of Object.entries(fields) as [string, (v: unknown) => string | undefined][]) {
        const problem = check(value[key]);
        if (problem) issues.push({ path: [key], message: problem });
      }
      if (!issues.length && whole) {
        const problem = whole(value as T);
        if (problem) issues.push({ path: [], message: problem });
      }
      return issues.length ? { success: false, error: { issues } } : { success: true, data: value as T };
    },
  };
}

export function isoTime(v: unknown): string | undefined {
  if (typeof v !== 'string') return v === undefined ? `required: ${ISO_TIME}` : ISO_TIME;
  try {
    timestampKey(v);
    return undefined;
  } catch {
    return ISO_TIME;
  }
}

export function optionalNonEmptyString(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' && v.length > 0 ? undefined : 'expected a non-empty string';
}

/** A number at least `min` (a whole one when `whole`). */
export function numberAtLeast(min: number, whole = false): (v: unknown) => string | undefined {
  const expected = `expected a ${whole ? 'whole ' : ''}number, at least ${min}`;
  return (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && (!whole || Number.isInteger(v)) ? undefined : expected;
}

/** Absent, or a check's value. */
export function optional(check: (v: unknown) => string | undefined): (v: unknown) => string | undefined {
  return (v) => (v === undefined ? undefined : check(v));
}

/** A list of values each passing `check`. */
export function listOf(check: (v: unknown) => string | undefined): (v: unknown) => string | undefined {
  return (v) => {
    if (!Array.isArray(v)) return 'expected a list';
    const at = v.findIndex((x) => check(x) !== undefined);
    return at < 0 ? undefined : `item ${at}: ${check(v[at])}`;
  };
}

/** Formats issues for status and the CLI: `from: expected …; to: …`. */
export function describeIssues(error: { issues: readonly Issue[] }): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
