/**
 * History bytes per 10,000 shipped events, without codecs, with gzip, and with gzip + AES-GCM (figures in the
 * README come from this test's output). Page data passes through history twice (fetch result, ship input), so
 * the codec is what keeps a backlog far below Temporal's 2 MB-per-payload and 50 MB-per-history limits.
 */
import { randomBytes } from 'node:crypto';
import { Harness } from './helpers/harness';
import { rawHistories } from './helpers/raw-history';
import { waitFor } from './helpers/wait';

const EVENTS = 10_000;

async function historyBytes(mode: 'none' | 'gzip' | 'gzip+aes'): Promise<{ bytes: number; runs: number }> {
  const now = Date.now();
  const h = await Harness.start({
    kandji: { backlog: { count: EVENTS, from: new Date(now - 10 * 3_600_000), to: new Date(now - 60_000) }, seed: 41 },
    env: mode === 'gzip+aes' ? { KANDJI_DATADOG_ENCRYPTION_KEY: randomBytes(32).toString('base64') } : {},
  });
  try {
    await h.startWorker({}, mode === 'none' ? { payloadCodecs: [] } : undefined);
    await h.startAudit(new Date(now - 11 * 3_600_000).toISOString());
    await waitFor('all shipped', () => h.datadog.received.length >= EVENTS, 120_000);
    await h.waitForState('caught_up', 'audit', 30_000);
    const runs = await rawHistories(h.client, h.auditHandle().workflowId);
    return { bytes: runs.reduce((n, r) => n + r.length, 0), runs: runs.length };
  } finally {
    await h.close();
  }
}

describe('history size per 10,000 events', () => {
  it('is several times smaller with the compression codec, and encryption adds little', async () => {
    const none = await historyBytes('none');
    const gzip = await historyBytes('gzip');
    const aes = await historyBytes('gzip+aes');
    const mb = (n: number) => (n / 1e6).toFixed(2);
    console.info(
      `history bytes per ${EVENTS} events: no codec ${mb(none.bytes)} MB (${none.runs} runs), ` +
        `gzip ${mb(gzip.bytes)} MB (${gzip.runs} runs), gzip+AES-GCM ${mb(aes.bytes)} MB (${aes.runs} runs)`,
    );
    expect(gzip.bytes).toBeLessThan(none.bytes / 3);
    expect(aes.bytes).toBeLessThan(gzip.bytes * 1.2);
  }, 600_000);
});
