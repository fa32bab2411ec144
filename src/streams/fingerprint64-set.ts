/**
 * The snapshot streams' working sets: 64-bit row fingerprints (the first 8 bytes of SHA-256 of a row's version key)
 * in an open-addressing hash table over a BigUint64Array — 16 bytes a row at most, where a JS Set of strings
 * costs ten times that — so a sweep of 1,000,000 detections holds its two sets in about 32 MB.
 * A false match needs two of the keys to share 64 bits: about one in 10^13 per new row at 1,000,000 rows.
 */
import { createHash } from 'node:crypto';

/** Fingerprint of a row key; never 0 (0 marks an empty slot). */
export function fingerprint64(key: string): bigint {
  const fp = createHash('sha256').update(key).digest().readBigUInt64LE(0);
  return fp === 0n ? 1n : fp;
}

export class Fingerprint64Set {
  private slots: BigUint64Array;
  private count = 0;

  constructor(expected = 1024) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.slots = new BigUint64Array(cap);
  }

  get size(): number {
    return this.count;
  }

  private indexOf(fp: bigint, slots: BigUint64Array): number {
    const mask = slots.length - 1;
    let i = Number(fp & BigInt(mask));
    for (;;) {
      const v = slots[i]!;
      if (v === 0n || v === fp) return i;
      i = (i + 1) & mask;
    }
  }

  has(fp: bigint): boolean {
    return this.slots[this.indexOf(fp, this.slots)] === fp;
  }

  /** Adds `fp`; returns false when it was there already. */
  add(fp: bigint): boolean {
    const i = this.indexOf(fp, this.slots);
    if (this.slots[i] === fp) return false;
    this.slots[i] = fp;
    this.count += 1;
    if (this.count * 2 > this.slots.length) this.grow();
    return true;
  }

  private grow(): void {
    const next = new BigUint64Array(this.slots.length * 2);
    for (const v of this.slots) if (v !== 0n) next[this.indexOf(v, next)] = v;
    this.slots = next;
  }

  *values(): IterableIterator<bigint> {
    for (const v of this.slots) if (v !== 0n) yield v;
  }
}

/** A list of fingerprints as base64 (8 bytes each, little-endian): the durable form of a state chunk. */
export function encodeFingerprints(fps: readonly bigint[] | BigUint64Array): string {
  const buf = Buffer.alloc(fps.length * 8);
  fps.forEach((fp, i) => buf.writeBigUInt64LE(fp, i * 8));
  return buf.toString('base64');
}

export function decodeFingerprints(encoded: string): BigUint64Array {
  const buf = Buffer.from(encoded, 'base64');
  if (buf.length % 8 !== 0) throw new Error(`fingerprint list of ${buf.length} bytes is not a multiple of 8`);
  const out = new BigUint64Array(buf.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = buf.readBigUInt64LE(i * 8);
  return out;
}
