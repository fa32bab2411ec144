/**
 * The audit events envelope, validated only as far as the cursor needs it: `results` is an array, and each record
 * needs a string `id` and an `occurred_at` timestamp; every other field passes through untouched. A record without
 * them cannot be placed in the log: it is set aside (a dead letter, with what is known of it) and the rest of the
 * page goes on. An envelope we cannot read at all is an error of the whole page.
 */
import { z } from 'zod';
import { isIsoTime } from '../config/edge-schemas';
import { RemoteError, snippet } from '../remote-errors';

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
  if (typeof r.occurred_at !== 'string') return 'no occurred_at';
  if (!isIsoTime(r.occurred_at))
    return `occurred_at is not an ISO-8601 timestamp: ${snippet(JSON.stringify(r.occurred_at), 60)}`;
  return undefined;
}

export function parseAuditPage(body: unknown): AuditPage {
  const parsed = auditEnvelope.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(body)'}: ${issue.message}` : 'unknown';
    throw new RemoteError(
      'kandji',
      'bad_response',
      `Kandji audit page has an unexpected shape at ${where}; body starts ${snippet(JSON.stringify(body) ?? '', 120)}`,
    );
  }
  // The original objects, not copies: records are forwarded exactly as Kandji sent them.
  const results: AuditRecord[] = [];
  const invalid: InvalidAuditRecord[] = [];
  (body as { results: unknown[] }).results.forEach((record, i) => {
    const problem = problemOf(record);
    if (!problem) return void results.push(record as AuditRecord);
    const r = (typeof record === 'object' && record !== null ? record : {}) as Record<string, unknown>;
    const id = typeof r.id === 'string' && r.id !== '' ? r.id : `#${i} of the page`;
    const at = typeof r.occurred_at === 'string' ? ` at ${snippet(r.occurred_at, 40)}` : '';
    invalid.push({ identity: `${id}${at}`, reason: problem });
  });
  return { results, invalid, next: parsed.data.next ?? null };
}
