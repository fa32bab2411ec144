/** Renders stream reports for people: one line per stream, readable at a glance. */
import { formatDuration } from '../../duration';
import type { StreamReport } from '../../streams/stream-control';

export function formatStatusTable(tenant: string, reports: readonly StreamReport[]): string {
  const rows = [['TENANT', 'STREAM', 'STATE', 'CURSOR', 'LAG', 'SHIPPED', 'LAST SUCCESS', 'LAST ERROR']];
  for (const r of reports) {
    const s = r.status;
    rows.push([
      tenant,
      r.stream,
      s ? (s.paused && s.state !== 'paused' ? `${s.state} (pausing)` : s.state) : r.execution.toLowerCase(),
      s ? s.cursor.since : '-',
      r.lagSeconds !== undefined ? formatDuration(r.lagSeconds * 1000) : '-',
      s ? String(s.counts.shipped) : '-',
      s?.lastShipAt ?? '-',
      s?.lastError ? `${s.lastError.type} at ${s.lastError.at}: ${s.lastError.message}` : '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const table = rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '),
  );
  for (const r of reports) {
    const c = r.status?.counts;
    if (c && (c.late > 0 || c.lateFound || c.lateResent || r.status?.lastLateSweep)) {
      const sweep = r.status?.lastLateSweep;
      table.push(
        `  late events (${r.stream}): ${c.late} caught by the polls, ${c.lateFound ?? 0} by the late sweep` +
          `${c.lateResent ? `, ${c.lateResent} sent again (hours too busy to list)` : ''}` +
          `${sweep ? `; last swept hour ${sweep.hour}:00Z at ${sweep.at}` : ''}`,
      );
    }
    // A parked sweep leaves the stream's state alone (the live tail goes on): it shows here.
    for (const p of r.status?.lateSweep?.parked ?? [])
      table.push(
        `  late sweep parked (${r.stream}): hour ${p.hour}:00Z, tried again after ${p.until}` +
          `${p.failures ? ` (failed ${p.failures} time${p.failures > 1 ? 's' : ''})` : ''}: ${p.reason}`,
      );
    for (const b of r.status?.backfills ?? []) {
      const progress = (b as { progress?: string }).progress;
      table.push(
        `  backfill ${b.id} (${r.stream}) ${b.from} → ${b.to}: ${b.state}` +
          `${b.shipped !== undefined ? `, ${b.shipped} shipped` : ''}${progress && b.state === 'running' ? `, at ${progress}` : ''}` +
          `${b.warning ? ` — ${b.warning}` : ''}`,
      );
    }
  }
  return table.join('\n');
}
