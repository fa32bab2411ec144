/**
 * A stream that fails for a long time never outgrows its history: while it sits in `unavailable`, `retrying` or
 * `blocked`, it continues as new when Temporal suggests it (the suite's dev server suggests it at 120 events), from
 * its committed position, and stays in that state.
 */
import { Harness } from './helpers/harness';
import { waitFor } from './helpers/wait';

const HOUR = 3_600_000;

async function continuesAsNewWhile(h: Harness, name: 'audit' | 'detections', state: string): Promise<void> {
  const s = await waitFor(`${name} to continue as new while ${state}`, async () => {
    const st = await h.status(name).catch(() => undefined);
    return st && st.generation >= 3 && st.state === state ? st : undefined;
  }, 120_000, 250);
  expect(s.state).toBe(state);
}

describe('failure loops continue as new', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('while detections are unavailable (404) and audit is retrying (5xx)', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 10, from: new Date(now - HOUR), to: new Date(now - 60_000) }, features: { detections: false }, seed: 91 },
      env: { KANDJI_AUTH_RECHECK_INTERVAL: '1s', KANDJI_ERROR_BACKOFF: '1s', KANDJI_FETCH_ATTEMPTS: '1' },
    });
    h.kandji.setFaults({ rate: 1, kinds: ['server_error_html'] });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    await h.startSnapshot('detections');
    await continuesAsNewWhile(h, 'detections', 'unavailable');
    await continuesAsNewWhile(h, 'audit', 'retrying');
    // The committed cursor came along: once Kandji recovers, the backlog ships once.
    h.kandji.setFaults({ rate: 0 });
    await waitFor('backlog shipped', () => h.datadog.received.length >= 10, 30_000);
  }, 300_000);

  it('while blocked by a rejected token', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 10, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 92, tokens: ['some-other-token'] },
      env: { KANDJI_AUTH_RECHECK_INTERVAL: '1s' },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    await continuesAsNewWhile(h, 'audit', 'blocked');
  }, 300_000);
});
