/** Renders stream reports for people: one line per stream, readable at a glance. */
import { formatDuration } from '../duration';
import type { StreamReport } from '../streams/stream-control';

export function formatStatusTable(tenant: string, reports: readonly StreamReport[]): string {
  const rows = [['TENANT', 'STREAM', 'STATE', 'CURSOR', 'LAG', 'SHIPPED', 'LAST SHIP', 'LAST ERROR']];
  for (const r of reports) {
    const s = r.status;
    rows.push([
      tenant,
      r.stream,
      s ? s.state : r.execution.toLowerCase(),
      s ? s.cursor.since : '-',
      r.lagSeconds !== undefined ? formatDuration(r.lagSeconds * 1000) : '-',
      s ? String(s.counts.shipped) : '-',
      s?.lastShipAt ?? '-',
      s?.lastError ? `${s.lastError.type} at ${s.lastError.at}: ${s.lastError.message}` : '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
