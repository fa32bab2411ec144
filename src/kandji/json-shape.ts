/**
 * What an answer of Kandji looks like, told without any of its content: error messages land in workflow history and
 * in `status`, where no record content may go (type names, lengths and the envelope's key names only).
 */
import type { z } from 'zod';
import { RemoteError } from '../remote-errors';

const MAX_KEYS = 5;
const MAX_KEY_LENGTH = 40;

/** `an array of 3`, `a string of 12 characters`, `an object with keys data, meta`, `a number`, `null`. */
export function shapeOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (typeof value !== 'object') return `a ${typeof value}`;
  const keys = Object.keys(value);
  if (keys.length === 0) return 'an empty object';
  const named = keys.slice(0, MAX_KEYS).map((k) => (k.length > MAX_KEY_LENGTH ? `${k.slice(0, MAX_KEY_LENGTH)}…` : k));
  const more = keys.length > MAX_KEYS ? ` and ${keys.length - MAX_KEYS} more` : '';
  return `an object with keys ${named.join(', ')}${more}`;
}

/** Where a page's envelope is not as expected, what was expected there and the shape found: `results: expected array, got a string of 3 characters`. */
export function envelopeMismatch(body: unknown, issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return `got ${shapeOf(body)}`;
  let at: unknown = body;
  for (const key of issue.path)
    at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  const expected = 'expected' in issue && typeof issue.expected === 'string' ? `expected ${issue.expected}, ` : '';
  return `${issue.path.join('.') || '(body)'}: ${expected}got ${shapeOf(at)}`;
}

/**
 * A page of a list endpoint (`results[]` and the envelope fields `schema` names) validated as far as paging needs; a
 * page of another shape is a `bad_response` telling the shape, never the content.
 */
export function parseListEnvelope<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new RemoteError(
    'kandji',
    'bad_response',
    `Kandji ${what} page has an unexpected shape (an object with results[] expected) at ${envelopeMismatch(body, parsed.error.issues[0])}`,
  );
}
