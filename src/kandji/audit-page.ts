/**
 * The audit events envelope, validated only as far as the cursor needs it: `results` is an array, and each record
 * needs a string `id` and an `occurred_at` timestamp; every other field passes through untouched. A record without
 * them cannot be placed in the log: it is set aside (a dead letter, with what is known of it) and the rest of the
 * page goes on. An envelope we cannot read at all is an error of the whole page.
 */
import { z } from 'zod';
import { isIsoTime } from '../config/edge-schemas';
import { RemoteError } from '../remote-errors';
import { envelopeMismatch, shapeOf } from './json-shape';

export type AuditRecord = { id: string; occurred_at: string } & Record<string, unknown>;

const auditEnvelope = z.looseObject({
  results: z.array(z.unknown()),
  next: z.string().nullable().optional(),
});

export interface InvalidAuditRecord {
  /** What is known of it: its id, else its place in the page, and its time if any. */
  identity: string;
  reason: string;
}

export interface AuditPage {
  results: AuditRecord[];
  /** Records set aside: no usable `id` or `occurred_at`. */
  invalid: InvalidAuditRecord[];
  next: string | null;
}

function problemOf(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'not a JSON object';
  const r = record as Record<string, unknown>;
  if (typeof r.id !== 'string' || r.id === '') return 'no string id';
  if (r.occurred_at === undefined) return 'no occurred_at';
  if (typeof r.occurred_at !== 'string') return `occurred_at is ${shapeOf(r.occurred_at)}, not a timestamp`;
  if (!isIsoTime(r.occurred_at)) return `occurred_at is not an ISO-8601 timestamp (${shapeOf(r.occurred_at)})`;
  return undefined;
}

/** An id or a time, as identity: a real one is far shorter; anything longer is cut. */
const cut = (text: string) => (text.length > MAX_IDENTITY_PART ? `${text.slice(0, MAX_IDENTITY_PART)}…` : text);
const MAX_IDENTITY_PART = 100;

export function parseAuditPage(body: unknown): AuditPage {
  const parsed = auditEnvelope.safeParse(body);
  if (!parsed.success) {
    // The shape, never the content: this message reaches workflow history and `status`.
    const mismatch = envelopeMismatch(body, parsed.error.issues[0]);
    throw new RemoteError(
      'kandji',
      'bad_response',
      `Kandji audit page has an unexpected shape (an object with results[] expected) at ${mismatch}`,
    );
  }
  // The original objects, not copies: records are forwarded exactly as Kandji sent them.
  const results: AuditRecord[] = [];
  const invalid: InvalidAuditRecord[] = [];
  (body as { results: unknown[] }).results.forEach((record, i) => {
    const problem = problemOf(record);
    if (!problem) return void results.push(record as AuditRecord);
    const r = (typeof record === 'object' && record !== null ? record : {}) as Record<string, unknown>;
    const id = typeof r.id === 'string' && r.id !== '' ? cut(r.id) : `#${i} of the page`;
    // Only a readable time is named: an unreadable one may be anything.
    const at = typeof r.occurred_at === 'string' && isIsoTime(r.occurred_at) ? ` at ${cut(r.occurred_at)}` : '';
    invalid.push({ identity: `${id}${at}`, reason: problem });
  });
  return { results, invalid, next: parsed.data.next ?? null };
}
