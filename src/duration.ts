/**
 * Human durations as used in configuration: `500ms`, `2s`, `5m`, `1h`, `1d`, or combinations such as `1h30m`.
 * A bare number is read as milliseconds only when it is 0; anything else must carry a unit so that
 * `KANDJI_POLL_INTERVAL=60` is an error rather than a 60 ms hot loop.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = re.exec(trimmed)) !== null) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new Error(`"${text}" is not a duration; use a number with a unit, e.g. 30s, 5m, 1h, 1h30m`);
  }
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1_000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.round(h / 24)}d`;
}
