/**
 * Datadog truncates a log over 1 MB and still answers 202, which cuts JSON mid-way and loses the facets behind the
 * cut. Instead we trim the largest fields ourselves — long strings shortened, long arrays cut — until the log fits,
 * and record what was trimmed, so the event stays searchable with its facets intact.
 */
export const MAX_LOG_BYTES = 1_000_000;
/** Trim to this, leaving room for the attribute that records the trimming. */
export const TRIM_TARGET_BYTES = 900_000;
/** Attribute that says what was trimmed: `{ original_bytes, fields: [{ path, original_bytes }] }`. */
export const TRIMMED_ATTRIBUTE = 'kandji_datadog_trimmed';
const MARKER = '…[trimmed by kandji-datadog]';

export interface TrimReport {
  original_bytes: number;
  fields: { path: string; original_bytes: number }[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');

/** Every string and array inside `value`, with its path and serialized size. */
function candidates(value: Json, path: string[], out: { path: string[]; bytes: number }[]): void {
  if (typeof value === 'string') out.push({ path, bytes: size(value) });
  else if (Array.isArray(value)) {
    out.push({ path, bytes: size(value) });
    value.forEach((v, i) => candidates(v, [...path, String(i)], out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) candidates(v, [...path, k], out);
  }
}

function getAt(root: Json, path: string[]): Json {
  return path.reduce<Json>((node, key) => (node as Record<string, Json>)[key] as Json, root);
}

function setAt(root: Json, path: string[], v: Json): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string, Json>;
  parent[path[path.length - 1]!] = v;
}

/** Shortens a string to about `bytes` bytes (UTF-8), without splitting a character. */
function shorten(s: string, bytes: number): string {
  const buf = Buffer.from(s, 'utf8').subarray(0, Math.max(0, bytes));
  return buf.toString('utf8').replace(/\uFFFD$/, '') + MARKER;
}

/**
 * Returns the item unchanged when it fits; otherwise a trimmed deep copy carrying TRIMMED_ATTRIBUTE.
 * `protectedKeys` (top-level) are never trimmed: the fields the cursor, identity and pipeline depend on.
 */
export function trimOversized(
  item: Record<string, unknown>,
  opts: { maxBytes?: number; targetBytes?: number; protectedKeys?: readonly string[] } = {},
): { item: Record<string, unknown>; report?: TrimReport } {
  const maxBytes = opts.maxBytes ?? MAX_LOG_BYTES;
  const target = opts.targetBytes ?? Math.min(TRIM_TARGET_BYTES, maxBytes);
  const original = size(item);
  if (original <= maxBytes) return { item };
  const copy = JSON.parse(JSON.stringify(item)) as Record<string, Json>;
  const protectedKeys = new Set(opts.protectedKeys ?? []);
  const report: TrimReport = { original_bytes: original, fields: [] };
  for (let guard = 0; guard < 10_000; guard++) {
    const current = size(copy);
    if (current <= target) break;
    const found: { path: string[]; bytes: number }[] = [];
    for (const [k, v] of Object.entries(copy)) if (!protectedKeys.has(k)) candidates(v, [k], found);
    // The largest node first; among equals, the shallowest (an array before its own elements).
    found.sort((a, b) => b.bytes - a.bytes || a.path.length - b.path.length);
    const biggest = found.find((c) => {
      const v = getAt(copy, c.path);
      return typeof v === 'string' ? c.bytes > MARKER.length + 64 : Array.isArray(v) && v.length > 1;
    });
    if (!biggest) break;
    const excess = current - target;
    const node = getAt(copy, biggest.path);
    const pathText = biggest.path.join('.');
    if (!report.fields.some((f) => f.path === pathText))
      report.fields.push({ path: pathText, original_bytes: biggest.bytes });
    if (typeof node === 'string') {
      setAt(copy, biggest.path, shorten(node, Math.max(64, Buffer.byteLength(node) - excess - MARKER.length - 16)));
    } else if (Array.isArray(node)) {
      // Drop elements from the end until the array has shed the excess (keeping at least one).
      let shed = 0;
      let keep = node.length;
      while (keep > 1 && shed < excess) shed += size(node[--keep]) + 1;
      setAt(copy, biggest.path, node.slice(0, keep));
    }
  }
  copy[TRIMMED_ATTRIBUTE] = report as unknown as Json;
  return { item: copy, report };
}
