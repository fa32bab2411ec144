/**
 * A wrong Kandji token must not make the stream spin: the workflow goes `blocked` with the auth error, re-checks
 * at its slow interval, and recovers by itself once the token works.
 */
import { setPaused } from '../../src/streams/stream-control';
import { FailureType } from '../../workflows/shared/failure-types';
import { Harness, KANDJI_TOKEN } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

describe('audit stream with rejected credentials', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('blocks without spinning, shows the auth error, and recovers once the token is right', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: {
        backlog: { count: 300, from: new Date(now - 3_600_000), to: new Date(now - 60_000) },
        tokens: ['some-other-token'],
      },
      env: { KANDJI_AUTH_RECHECK_INTERVAL: '2s' },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * 3_600_000).toISOString());

    const blocked = await h.waitForState('blocked', 'audit', 30_000);
    expect(blocked.lastError?.type).toBe(FailureType.KandjiAuth);
    expect(blocked.lastError?.during).toBe('fetch');
    expect(blocked.lastError?.message).toMatch(/401/);
    expect(blocked.lastError?.message).not.toContain(KANDJI_TOKEN);

    // Over 10 s of being blocked, requests stay bounded by the 2 s re-check (about 5, not a hot loop).
    const before = h.kandji.requestCount();
    await new Promise((r) => setTimeout(r, 10_000));
    const during = h.kandji.requestCount() - before;
    expect(during).toBeGreaterThanOrEqual(2);
    expect(during).toBeLessThanOrEqual(8);
    expect(h.datadog.received).toHaveLength(0);

    h.kandji.setTokens([KANDJI_TOKEN]);
    await waitFor('backlog shipped after the token was fixed', () => h.datadog.received.length >= 300, 30_000);
    const recovered = await h.waitForState('caught_up', 'audit', 15_000);
    expect(recovered.counts.shipped).toBe(300);
    // The last error stays visible for the operator, with its time.
    expect(recovered.lastError?.type).toBe(FailureType.KandjiAuth);
  });

  it('blocks on a rejected Datadog key, keeps the fetched page, and ships it once the key works', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 200, from: new Date(now - 3_600_000), to: new Date(now - 60_000) } },
      env: { KANDJI_AUTH_RECHECK_INTERVAL: '2s' },
    });
    h.datadog.setApiKeys(['a-different-key']);
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * 3_600_000).toISOString());
    const blocked = await h.waitForState('blocked', 'audit', 30_000);
    expect(blocked.lastError?.type).toBe(FailureType.DatadogAuth);
    expect(blocked.lastError?.during).toBe('ship');
    const kandjiRequests = h.kandji.requestCount();
    await new Promise((r) => setTimeout(r, 5_000));
    // While Datadog refuses, Kandji is not asked again: the page waits in the workflow.
    expect(h.kandji.requestCount()).toBe(kandjiRequests);

    h.datadog.setApiKeys([h.config.datadogApiKey]);
    await waitFor('shipped after the key was fixed', () => h.datadog.received.length >= 200, 30_000);
    expect(new Set(h.datadog.received.map((i) => i.id)).size).toBe(200);
    expect(h.datadog.received).toHaveLength(200);
  });

  it('re-checks at once on resume, instead of waiting out the slow re-check', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: {
        backlog: { count: 100, from: new Date(now - 3_600_000), to: new Date(now - 60_000) },
        tokens: ['some-other-token'],
      },
      env: { KANDJI_AUTH_RECHECK_INTERVAL: '10m' },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * 3_600_000).toISOString());
    await h.waitForState('blocked', 'audit', 30_000);
    h.kandji.setTokens([KANDJI_TOKEN]);
    await setPaused(h.client, h.tenant, ['audit'], false);
    await waitFor('shipped right after resume', () => h.datadog.received.length >= 100, 15_000);
  });
});
