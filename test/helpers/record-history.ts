/**
 * Runs a short, eventful audit stream (auth failure and recovery, backlog, live events, caught-up sleep, a late
 * event found by the late sweep, stop)
 * on the harness and returns its history as protobuf bytes (the wire form of temporal.api.history.v1.History). Binary rather than
 * JSON because the SDK's JSON history reader trips over two copies of protobufjs in this dependency tree.
 * Used by the replay test (RECORD_HISTORIES=1 saves it).
 */
import { temporal } from '@temporalio/proto';
import { Harness, KANDJI_TOKEN } from './harness';
import { waitFor } from './wait';
import { stopStream } from '../../src/streams/stream-control';

export async function recordAuditHistory(): Promise<Buffer> {
  const now = Date.now();
  const h = await Harness.start({
    kandji: {
      backlog: { count: 1_200, from: new Date(now - 3_600_000), to: new Date(now - 60_000) },
      tokens: ['wrong'],
    },
    // Late sweeps seconds apart (not hours), so that one finds an event that turns up 90 minutes late.
    env: {
      KANDJI_AUTH_RECHECK_INTERVAL: '1s',
      KANDJI_AUDIT_PAGE_SIZE: '200',
      KANDJI_AUDIT_LATE_SWEEPS: '1s,2s,4s,8s,16s,32s',
    },
  });
  try {
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * 3_600_000).toISOString());
    await waitFor('blocked', async () => (await h.status()).state === 'blocked', 20_000);
    h.kandji.setTokens([KANDJI_TOKEN]);
    await waitFor('backlog shipped', () => h.datadog.received.length >= 1_200, 30_000);
    h.kandji.audit.startLive({ perSecond: 10 });
    await new Promise((r) => setTimeout(r, 2_500));
    h.kandji.audit.stopLive();
    await waitFor('caught up', async () => (await h.status()).state === 'caught_up', 10_000);
    const late = h.kandji.audit.appendLate(90 * 60_000);
    await waitFor(
      'late event shipped by the late sweep',
      () => h.datadog.received.some((r) => r.id === late.id),
      20_000,
    );
    await stopStream(h.client, h.tenant, 'audit', 20_000);
    const history = await h.auditHandle().fetchHistory();
    return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  } finally {
    await h.close();
  }
}

/** A short detections stream: two sweeps with churn between them, then stop. */
export async function recordSnapshotHistory(): Promise<Buffer> {
  const h = await Harness.start({ kandji: { detections: { count: 400 }, seed: 81 } });
  try {
    await h.startWorker();
    await h.startSnapshot('detections');
    await h.sweeps('detections', 1);
    h.kandji.detections.randomChurn({ add: 5, remove: 5 });
    await h.sweeps('detections', 3);
    await stopStream(h.client, h.tenant, 'detections', 20_000);
    const history = await h.handle('detections').fetchHistory();
    return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  } finally {
    await h.close();
  }
}
