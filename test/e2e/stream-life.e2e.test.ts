/**
 * A stream that fails for a long time never outgrows its history: while it sits in `unavailable`, `retrying` or
 * `blocked`, it continues as new when Temporal suggests it (the suite's dev server suggests it at 120 events), from
 * its committed position, and stays in that state.
 */
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;

async function continuesAsNewWhile(h: Harness, name: 'audit' | 'detections', state: string): Promise<void> {
  let last: unknown;
  const s = await waitFor(
    `${name} to continue as new while ${state}`,
    async () => {
      const st = await h.status(name).catch(() => undefined);
      last = st && { generation: st.generation, state: st.state, error: st.lastError?.type };
      return st && st.generation >= 3 && st.state === state ? st : undefined;
    },
    120_000,
    250,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen ${JSON.stringify(last)}`);
  });
  expect(s.state).toBe(state);
}

describe('failure loops continue as new', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('while detections are unavailable (404)', async () => {
    h = await Harness.start({
      kandji: { features: { detections: false }, seed: 91 },
      env: { KANDJI_AUTH_RECHECK_INTERVAL: '1s' },
    });
    await h.startWorker();
    await h.startSnapshot('detections');
    await continuesAsNewWhile(h, 'detections', 'unavailable');
  }, 300_000);

  it('while audit is retrying (5xx), with its committed cursor', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 10, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 93 },
      env: { KANDJI_ERROR_BACKOFF: '1s', KANDJI_FETCH_ATTEMPTS: '1' },
    });
    h.kandji.setFaults({ rate: 1, kinds: ['server_error_html'] });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    await continuesAsNewWhile(h, 'audit', 'retrying');
    // The committed cursor came along: once Kandji recovers, the backlog ships once.
    h.kandji.setFaults({ rate: 0 });
    await waitFor('backlog shipped', () => h.datadog.received.length >= 10, 30_000);
    expect(h.datadog.received).toHaveLength(10);
  }, 300_000);

  it('while blocked by a rejected token', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: {
        backlog: { count: 10, from: new Date(now - HOUR), to: new Date(now - 60_000) },
        seed: 92,
        tokens: ['some-other-token'],
      },
      env: { KANDJI_AUTH_RECHECK_INTERVAL: '1s' },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    await continuesAsNewWhile(h, 'audit', 'blocked');
  }, 300_000);
});
