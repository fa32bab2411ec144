/**
 * The row a snapshot log was shipped from, rebuilt from its Datadog attributes, has the version key the sweep
 * fingerprinted: whatever we added on the way out (intake keys, `timestamp`, what `restamp` moved) is taken off.
 */
import { DATED_BY, SERVICE_OF_STREAM, toLogItem } from '../../src/datadog/log-items';
import { restamp } from '../../src/datadog/stale-events';
import { recordOfLog, versionKeyOfLog, type ListedLog } from '../../src/streams/log-identity';
import { versionKey } from '../../src/streams/record-identity';
import type { SnapshotStreamName } from '../../workflows/shared/stream-status';

const SHIPPED_AT = Date.parse('2026-03-02T10:00:00Z');

/** What the Search API gives back for a row shipped by `stream`: its attributes, `message` hoisted out of them. */
function listed(stream: SnapshotStreamName, row: Record<string, unknown>, stale = false): ListedLog {
  const sent = stale ? restamp(row, SHIPPED_AT, stream) : row;
  const item = toLogItem(sent, {
    service: SERVICE_OF_STREAM[stream],
    ddtags: 'kandji_tenant:acme',
    hostname: 'fwd-1',
    ...(DATED_BY[stream] ? { datedBy: DATED_BY[stream] } : {}),
  });
  const { message, ...attributes } = item;
  return { attributes, ...(typeof message === 'string' ? { message } : {}) };
}

describe('the row of a listed log', () => {
  it('a restamped detection is found by its original time: its row and version key are the ones shipped', () => {
    const row = {
      device_id: 'd1',
      bundle_id: null,
      cve_id: 'CVE-2025-1',
      detection_datetime: '2026-02-20T08:00:00.000000Z',
    };
    const log = listed('detections', row, true);
    expect(log.attributes.detection_datetime).not.toBe(row.detection_datetime); // the log is dated by its shipping
    expect(recordOfLog('detections', log)).toEqual(row);
    expect(versionKeyOfLog('detections', log)).toBe('d1||CVE-2025-1');
  });

  it('a behavioral detection loses the timestamp we added, restamped or not, and keeps its status', () => {
    const row = {
      id: 'b-1',
      threat_status: 'MALICIOUS',
      detection_date: '2026-02-20T08:00:00.000000+00:00',
      message: 'a chain a rule judged malicious',
    };
    for (const stale of [false, true]) {
      const log = listed('behavioral-detections', row, stale);
      expect(log.attributes.timestamp).toBeDefined();
      expect(log.attributes.message).toBeUndefined(); // hoisted by Datadog, put back from the log's message
      expect(recordOfLog('behavioral-detections', log)).toEqual(row);
      expect(versionKeyOfLog('behavioral-detections', log)).toBe(versionKey('behavioral-detections', row));
    }
  });

  it('a row identified by its whole content hashes as it was shipped (a threat without file_hash)', () => {
    const row = { device_id: 'd1', file_hash: '', detection_date: '2026-03-01 09:00:00', status: 'QUARANTINED' };
    const key = versionKeyOfLog('threats', listed('threats', row));
    expect(key).toMatch(/^row:/);
    expect(key).toBe(versionKey('threats', row));
    expect(versionKeyOfLog('threats', listed('threats', { ...row, status: 'RELEASED' }))).not.toBe(key);
  });

  it('a stream not dated by timestamp keeps a timestamp field of the row itself', () => {
    const row = { device_id: 'd1', file_hash: '', detection_date: '2026-03-01 09:00:00', timestamp: 'own' };
    expect(recordOfLog('threats', listed('threats', row))).toEqual(row);
  });
});
