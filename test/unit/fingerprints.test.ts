/** The snapshot streams' state: a compact fingerprint set, small enough for 200,000 detections in one payload. */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { runCodec } from '../../src/processes/codec-server/codec-server';
import { FingerprintSet, fingerprint } from '../../src/streams/fingerprints';
import { versionKey } from '../../src/streams/record-identity';
import { payloadCodecs } from '../../src/temporal/data-converter';

describe('FingerprintSet', () => {
  it('round-trips through its base64 form, sorted and de-duplicated', () => {
    const keys = ['a|b|c', 'x||CVE-1', 'a|b|c'];
    const set = new FingerprintSet(keys.map(fingerprint));
    expect(set.size).toBe(2);
    const back = FingerprintSet.decode(set.encode());
    expect(back.size).toBe(2);
    for (const k of keys) expect(back.has(fingerprint(k))).toBe(true);
    expect(back.has(fingerprint('other'))).toBe(false);
    expect(FingerprintSet.decode('').size).toBe(0);
    expect(() => FingerprintSet.decode(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/multiple of 8/);
  });

  it('counts what disappeared', () => {
    const before = new FingerprintSet(['a', 'b', 'c'].map(fingerprint));
    const after = new FingerprintSet(['b', 'c', 'd'].map(fingerprint));
    expect(before.missingFrom(after)).toBe(1);
  });

  it('tells a detection by device, bundle and CVE, and a threat also by status', () => {
    const d = { device_id: 'd1', bundle_id: null, cve_id: 'CVE-2025-1', severity: 'High' };
    expect(versionKey('detections', d)).toBe('d1||CVE-2025-1');
    expect(versionKey('detections', { ...d, severity: 'Low' })).toBe(versionKey('detections', d));
    const t = { device_id: 'd1', file_hash: 'ab', detection_date: '2026-01-01T00:00:00.000000', status: 'QUARANTINED' };
    expect(versionKey('threats', { ...t, status: 'RELEASED' })).not.toBe(versionKey('threats', t));
  });

  it('keeps the state of 200,000 detections under Temporal’s 2 MB payload limit, through the real codecs', async () => {
    const set = new FingerprintSet();
    for (let i = 0; i < 200_000; i++) set.add(fingerprint(`device-${i % 5_000}|com.app.${i % 40}|CVE-2025-${i}`));
    const result = { seen: set.encode(), rows: 200_000, fresh: 0, gone: 0, known: 200_000, pages: 667 };
    const payload = defaultPayloadConverter.toPayload(result);
    const gzip = (await runCodec(payloadCodecs(), 'encode', [payload]))[0]!;
    const aes = (await runCodec(payloadCodecs(randomBytes(32).toString('base64')), 'encode', [payload]))[0]!;
    const mb = (n: number) => (n / 1e6).toFixed(2);
    console.info(
      `state of 200,000 detections: ${mb(payload.data!.length)} MB as JSON, ${mb(gzip.data!.length)} MB gzipped, ${mb(aes.data!.length)} MB gzipped + encrypted`,
    );
    expect(gzip.data!.length).toBeLessThan(1_800_000);
    expect(aes.data!.length).toBeLessThan(1_800_000);
  });
});
