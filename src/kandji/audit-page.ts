/**
 * The audit events envelope, validated only as far as the cursor needs it: `results` is an array of objects with
 * a string `id` and an `occurred_at` timestamp; every other field passes through untouched.
 */
import { z } from 'zod';
import { RemoteError, snippet } from '../remote-errors';
import { timestampKey } from '../../workflows/timestamps';

export type AuditRecord = { id: string; occurred_at: string } & Record<string, unknown>;

const auditRecord = z
  .looseObject({
    id: z.string().min(1),
    occurred_at: z.string().refine((s) => {
      try {
        timestampKey(s);
        return true;
      } catch {
        return false;
      }
    }, 'not an ISO-8601 timestamp'),
  });

const auditEnvelope = z.looseObject({
  results: z.array(auditRecord),
  next: z.string().nullable().optional(),
});

export interface AuditPage {
  results: AuditRecord[];
  next: string | null;
}

export function parseAuditPage(body: unknown): AuditPage {
  const parsed = auditEnvelope.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(body)'}: ${issue.message}` : 'unknown';
    throw new RemoteError('kandji', 'bad_response', `Kandji audit page has an unexpected shape at ${where}; body starts ${snippet(JSON.stringify(body) ?? '', 120)}`);
  }
  // The original objects, not zod's copies: records are forwarded exactly as Kandji sent them.
  const original = body as { results: AuditRecord[] };
  return { results: original.results, next: parsed.data.next ?? null };
}
