/**
 * A compact set of row keys for the snapshot streams: 8-byte SHA-256 fingerprints, sorted, carried between sweeps
 * as one base64 string (8 bytes a row: 200,000 detections ≈ 1.6 MB, which the gzip codec keeps at about that size in
 * history, under Temporal's 2 MB payload limit). A false match needs two of the keys to share 64 bits: about one
 * in 10^9 per new row at 200,000 rows.
 */
import { createHash } from 'node:crypto';

export function fingerprint(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export class FingerprintSet {
  private readonly set: Set<string>;

  constructor(fps: Iterable<string> = []) {
    this.set = new Set(fps);
  }

  static decode(encoded: string): FingerprintSet {
    const buf = Buffer.from(encoded, 'base64');
    if (buf.length % 8 !== 0) throw new Error(`fingerprint set of ${buf.length} bytes is not a multiple of 8`);
    const fps: string[] = [];
    for (let i = 0; i < buf.length; i += 8) fps.push(buf.subarray(i, i + 8).toString('hex'));
    return new FingerprintSet(fps);
  }

  encode(): string {
    return Buffer.from([...this.set].sort().join(''), 'hex').toString('base64');
  }

  has(fp: string): boolean {
    return this.set.has(fp);
  }

  add(fp: string): void {
    this.set.add(fp);
  }

  get size(): number {
    return this.set.size;
  }

  /** How many of this set's fingerprints are missing from `other`. */
  missingFrom(other: FingerprintSet): number {
    let n = 0;
    for (const fp of this.set) if (!other.has(fp)) n += 1;
    return n;
  }
}
