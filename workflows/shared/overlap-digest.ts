/**
 * The audit cursor's memory of what it shipped inside the overlap window, in bounded space: one fixed-width entry
 * per shipped event (the second of its `occurred_at` and a 53-bit hash of its id), sorted by time, at most
 * MAX_DIGEST_ENTRIES entries whatever the event rate. Pure code (no Node built-ins): the workflow reads it, the
 * fetch activity writes it.
 *
 * A false match (two ids sharing 53 bits) would skip a late event: with 2,048 entries that is about one in 4·10^12
 * per event re-read.
 */

/** 8 hex digits of epoch seconds, then 14 of the id hash. */
const ENTRY = 22;
/** The digest never holds more than this; past it the oldest entries go and the window shrinks to what it covers. */
export const MAX_DIGEST_ENTRIES = 2_048;

/** cyrb53: a fast, well-mixed 53-bit string hash (public domain, bryc). */
export function idHash(id: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

export interface DigestEntry {
  /** Epoch seconds of the event's occurred_at. */
  sec: number;
  hash: string;
}

export function decodeDigest(digest: string | undefined): DigestEntry[] {
  const out: DigestEntry[] = [];
  if (!digest) return out;
  for (let i = 0; i + ENTRY <= digest.length; i += ENTRY) {
    out.push({ sec: parseInt(digest.slice(i, i + 8), 16), hash: digest.slice(i + 8, i + ENTRY) });
  }
  return out;
}

export function encodeDigest(entries: readonly DigestEntry[]): string {
  return entries.map((e) => e.sec.toString(16).padStart(8, '0') + e.hash).join('');
}

/**
 * Keeps entries at or after `fromSec`, sorted and without repeats; when more than `max` remain, the oldest
 * seconds go whole and `coveredFromSec` says from which second the digest is still complete.
 */
export function pruneDigest(
  entries: readonly DigestEntry[],
  fromSec: number,
  max = MAX_DIGEST_ENTRIES,
): { entries: DigestEntry[]; coveredFromSec: number | undefined } {
  const seen = new Set<string>();
  const kept = entries
    .filter((e) => e.sec >= fromSec && !seen.has(e.hash) && (seen.add(e.hash), true))
    .sort((a, b) => a.sec - b.sec || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  if (kept.length <= max) return { entries: kept, coveredFromSec: undefined };
  // Drop whole seconds from the oldest end, so that what stays covers every event from its first second on.
  let cut = kept.length - max;
  const cutSec = kept[cut - 1]!.sec;
  while (cut < kept.length && kept[cut]!.sec === cutSec) cut += 1;
  return { entries: kept.slice(cut), coveredFromSec: cutSec + 1 };
}
