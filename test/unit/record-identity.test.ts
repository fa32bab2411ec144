/** Snapshot rows whose identity fields are empty are told apart by their whole content, never collapsed into one. */
import { lacksIdentity, recordIdentity, stableJson, versionKey } from '../../src/streams/record-identity';
import { isShortSweep, sweepsAgree } from '../../workflows/snapshot-sweep-loop';

describe('record identity', () => {
  it('keeps the identity fields when they are present (a null bundle_id included)', () => {
    expect(recordIdentity('detections', { device_id: 'd1', bundle_id: null, cve_id: 'CVE-1', x: 1 })).toBe('d1||CVE-1');
    expect(
      versionKey('threats', {
        device_id: 'd1',
        file_hash: 'h',
        detection_date: '2025-01-01 00:00:00',
        status: 'RELEASED',
      }),
    ).toBe('d1|h|2025-01-01 00:00:00|RELEASED');
  });

  it('falls back to a hash of the whole row when an identity field is missing or empty', () => {
    const a = { device_id: '', bundle_id: 'com.a', cve_id: '', name: 'A' };
    const b = { device_id: '', bundle_id: 'com.a', cve_id: '', name: 'B' };
    expect(lacksIdentity('detections', a)).toBe(true);
    expect(recordIdentity('detections', a)).toMatch(/^row:[0-9a-f]{32}$/);
    expect(recordIdentity('detections', a)).not.toBe(recordIdentity('detections', b));
    expect(recordIdentity('detections', { device_id: 'd1', cve_id: null })).toMatch(/^row:/);
    expect(recordIdentity('detections', { device_id: '  ', cve_id: 'CVE-1' })).toMatch(/^row:/);
    // Stable: key order does not matter.
    expect(recordIdentity('detections', { name: 'A', cve_id: '', bundle_id: 'com.a', device_id: '' })).toBe(
      recordIdentity('detections', a),
    );
    // A threat without file_hash: its status is part of its content, so a change of status is a new version.
    const t = { device_id: 'd1', file_hash: '', detection_date: '2025-01-01 00:00:00', status: 'QUARANTINED' };
    expect(versionKey('threats', t)).toMatch(/^row:/);
    expect(versionKey('threats', { ...t, status: 'RELEASED' })).not.toBe(versionKey('threats', t));
  });

  it('writes stable JSON', () => {
    expect(stableJson({ b: [1, { d: 2, c: null }], a: 'x', u: undefined })).toBe('{"a":"x","b":[1,{"c":null,"d":2}]}');
  });
});

describe('short sweeps', () => {
  it('are those under half of a committed state of at least 100 rows', () => {
    expect(isShortSweep(0, 99)).toBe(false);
    expect(isShortSweep(0, 100)).toBe(true);
    expect(isShortSweep(49, 100)).toBe(true);
    expect(isShortSweep(50, 100)).toBe(false);
  });

  it('are confirmed by a sweep of about the same size', () => {
    expect(sweepsAgree(0, 0)).toBe(true);
    expect(sweepsAgree(40, 48)).toBe(true);
    expect(sweepsAgree(1_000, 1_100)).toBe(true);
    expect(sweepsAgree(1_000, 1_200)).toBe(false);
    expect(sweepsAgree(0, 40)).toBe(false);
  });
});
