/**
 * History bytes per 10,000 shipped audit events, and the largest payload written: records never pass through
 * history (only page references, counts, cursors and the late-event ledger do), so history stays under 100 KB per
 * 10,000 events with the service's data converter (gzip for payloads over 1 KB), whatever the records weigh.
 * Part of it is the late-event ledger (workflows/shared/late-ledger.ts: a table of about 1.4 KB per hour of events in each
 * ship's result, and the ledger carried by each continue-as-new, frequent here since the suite lowers Temporal's
 * threshold). Without any codec it is printed for docs/performance.md.
 */
import { largestPayloadBytes } from '../../src/temporal/history-payloads';
import { rawHistories } from '../../src/temporal/raw-history';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const EVENTS = 10_000;

async function measure(codec: 'gzip' | 'none'): Promise<{ bytes: number; runs: number; largest: number }> {
  const now = Date.now();
  const h = await Harness.start({
    kandji: { backlog: { count: EVENTS, from: new Date(now - 10 * 3_600_000), to: new Date(now - 60_000) }, seed: 41 },
    // One slow poll once caught up, so that the measure is the backlog's.
    env: { KANDJI_POLL_INTERVAL: '1h' },
  });
  try {
    await h.startWorker({}, codec === 'none' ? { payloadCodecs: [] } : undefined);
    await h.startAudit(new Date(now - 11 * 3_600_000).toISOString());
    await waitFor('all shipped', () => h.datadog.received.length >= EVENTS, 120_000);
    await h.waitForState('caught_up', 'audit', 30_000);
    const runs = await rawHistories(h.client, h.auditHandle().workflowId);
    return { bytes: runs.reduce((n, r) => n + r.length, 0), runs: runs.length, largest: largestPayloadBytes(runs) };
  } finally {
    await h.close();
  }
}

describe('history size per 10,000 events', () => {
  it('stays under 100 KB with the service data converter, every payload under 256 KB', async () => {
    const gzip = await measure('gzip');
    const none = await measure('none');
    const kb = (n: number) => (n / 1024).toFixed(1);
    console.info(
      `history per ${EVENTS} events: gzip ${kb(gzip.bytes)} KB (${gzip.runs} runs, largest payload ${gzip.largest} B), ` +
        `no codec ${kb(none.bytes)} KB (${none.runs} runs, largest payload ${none.largest} B)`,
    );
    expect(gzip.bytes).toBeLessThanOrEqual(100 * 1024);
    expect(none.bytes).toBeLessThanOrEqual(150 * 1024);
    expect(Math.max(gzip.largest, none.largest)).toBeLessThanOrEqual(256 * 1024);
  }, 400_000);
});
