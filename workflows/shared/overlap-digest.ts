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

/**
 * What a read changed of the digest: the entries it added, and the second from which the new digest keeps entries.
 * A read sends the workflow this instead of the whole new digest (most of a busy stream's history); the workflow
 * rebuilds the digest with applyDigestTail, the same pure code the read used.
 */
export interface DigestTail {
  /** The entries `after` has and `before` had not (encoded like a digest). */
  added: string;
  /** The oldest second `after` keeps (pruneDigest's `fromSec`). */
  fromSec: number;
}

const key = (e: DigestEntry) => `${e.sec}/${e.hash}`;

/** The tail from `before` to `after`; undefined when applying it would not give `after` exactly (send it whole). */
export function digestTail(before: string | undefined, after: string | undefined): DigestTail | undefined {
  const had = new Set(decodeDigest(before).map(key));
  const entries = decodeDigest(after);
  const tail = {
    added: encodeDigest(entries.filter((e) => !had.has(key(e)))),
    fromSec: entries[0]?.sec ?? Number.MAX_SAFE_INTEGER,
  };
  return applyDigestTail(before, tail) === (after || undefined) ? tail : undefined;
}

/** The digest a tail describes, from the digest it follows. */
export function applyDigestTail(before: string | undefined, tail: DigestTail): string | undefined {
  const { entries } = pruneDigest([...decodeDigest(before), ...decodeDigest(tail.added)], tail.fromSec);
  return encodeDigest(entries) || undefined;
}
