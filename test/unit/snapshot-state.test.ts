/** The snapshot streams' state: 64-bit fingerprint sets, and chunks of 1,000,000 rows under the payload bound. */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { SNAPSHOT_CHUNK_ROWS } from '../../activities/snapshot-sweep';
import {
  Fingerprint64Set,
  decodeFingerprints,
  encodeFingerprints,
  fingerprint64,
} from '../../src/streams/fingerprint64-set';
import { payloadCodecs } from '../../src/temporal/data-converter';

describe('Fingerprint64Set', () => {
  it('adds, finds and grows', () => {
    const set = new Fingerprint64Set(4);
    const fps = Array.from({ length: 10_000 }, (_, i) => fingerprint64(`row-${i}`));
    for (const fp of fps) expect(set.add(fp)).toBe(true);
    expect(set.add(fps[0]!)).toBe(false);
    expect(set.size).toBe(10_000);
    for (const fp of fps) expect(set.has(fp)).toBe(true);
    expect(set.has(fingerprint64('other'))).toBe(false);
    expect([...set.values()].sort()).toEqual([...fps].sort());
  });

  it('round-trips a list through its base64 form and refuses a truncated one', () => {
    const fps = [1n, 2n ** 64n - 1n, fingerprint64('x')];
    expect([...decodeFingerprints(encodeFingerprints(fps))]).toEqual(fps);
    expect(() => decodeFingerprints(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/multiple of 8/);
  });
});

describe('the state of 1,000,000 live detections', () => {
  it('is 50 chunks, each one payload under 256 KB after the data converter, that read back whole', async () => {
    const rows = 1_000_000;
    const all = new BigUint64Array(randomBytes(rows * 8).buffer.slice(0)); // incompressible, like real hashes
    const codecs = payloadCodecs();
    let largest = 0;
    let chunks = 0;
    const back = new Fingerprint64Set(rows);
    for (let i = 0; i < rows; i += SNAPSHOT_CHUNK_ROWS) {
      const input = { fingerprints: encodeFingerprints(all.subarray(i, i + SNAPSHOT_CHUNK_ROWS)) };
      let payloads = [defaultPayloadConverter.toPayload(input)];
      for (const codec of codecs) payloads = await codec.encode(payloads);
      largest = Math.max(largest, temporal.api.common.v1.Payload.encode(payloads[0]!).finish().length);
      for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
      const decoded = defaultPayloadConverter.fromPayload<{ fingerprints: string }>(payloads[0]!);
      for (const fp of decodeFingerprints(decoded.fingerprints)) back.add(fp === 0n ? 1n : fp);
      chunks += 1;
    }
    console.info(`1,000,000 detections: ${chunks} chunks, largest payload ${largest} bytes`);
    expect(chunks).toBe(50);
    expect(largest).toBeLessThanOrEqual(256 * 1024);
    expect(back.size).toBeGreaterThan(rows - 5); // random 64-bit values: collisions are vanishingly rare
  });
});
