/** Renders a verify run for people: one line per hour, then what the operator must know. */
import type { VerifyStreamResult } from '../../workflows/verify-stream';

const HEADERS = ['HOUR', 'KANDJI', 'DATADOG', 'QUOTA', 'EXCLUDED', 'STALE', 'LOST', 'REPAIRED', 'RESULT'];

export function formatVerifyTable(tenant: string, result: VerifyStreamResult): string {
  const rows = [HEADERS];
  for (const r of result.rows) {
    const m = r.missing;
    const counts = [r.kandji, r.datadog, m.quota, m.excluded, m.stale, m.lost, r.repaired].map(String);
    rows.push([`${r.hour}:00Z`, ...counts, r.result]);
  }
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = [
    `${tenant}/audit`,
    ...rows.map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
  ];
  for (const r of result.rows) if (r.reason) lines.push(`  ${r.hour}:00Z ${r.result}: ${r.reason}`);
  if (result.notClosed > 0)
    lines.push(`  ${result.notClosed} hour(s) of the window not verified: they closed less than 15 minutes ago`);
  const requests = result.rows.reduce((n, r) => n + r.requests, 0);
  lines.push(`  Datadog read requests: ${requests}`);
  return lines.join('\n');
}

/** 1: an unexplained gap (lost events still missing); 3: no gap, but an hour Datadog could not answer for; else 0. */
export function verifyExitCode(result: VerifyStreamResult): number {
  if (result.rows.some((r) => r.result === 'gap')) return 1;
  if (result.rows.some((r) => r.result === 'inconclusive' || r.result === 'off')) return 3;
  return 0;
}
