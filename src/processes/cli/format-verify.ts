/** Renders a verify run of a stream for people: one line per hour, then what the operator must know. */
import type { VerifyStreamResult } from '../../../workflows/verify-stream';

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
    `${tenant}/${result.stream ?? 'audit'}`,
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
  if (result.stream && result.rows.length === 0 && result.notClosed === 0)
    lines.push('  no row of the stream has its own time in the window');
  if (result.undated)
    lines.push(
      `  ${result.undated} row(s) of the stream have no time of their own: not verified (no hour to put them in)`,
    );
  // A snapshot stream's requests are its window's (one listing for every hour), not its hours'.
  const requests = result.requests ?? result.rows.reduce((n, r) => n + r.requests, 0);
  lines.push(`  Datadog read requests: ${requests}`);
  return lines.join('\n');
}

/** 1: an unexplained gap (lost events still missing); 3: no gap, but an hour Datadog could not answer for; else 0. */
export function verifyExitCode(result: VerifyStreamResult): number {
  if (result.rows.some((r) => r.result === 'gap')) return 1;
  if (result.rows.some((r) => r.result === 'inconclusive' || r.result === 'off')) return 3;
  return 0;
}
