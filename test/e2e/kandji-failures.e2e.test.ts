/**
 * Kandji failure modes as the operator sees them in status: unreadable answers (retried, then `blocked` with the
 * first bytes of the body), and a `next` link to another host (refused: the token never leaves the configured origin).
 */
import { FailureType } from '../../workflows/shared/failure-types';
import { Harness, KANDJI_TOKEN } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;

describe('Kandji failure modes', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('retries malformed JSON, then blocks saying so by size, never quoting the records, and recovers', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 200, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 71 },
      env: { KANDJI_FETCH_ATTEMPTS: '2', KANDJI_AUTH_RECHECK_INTERVAL: '2s' },
    });
    h.kandji.setFaults({ rate: 1, kinds: ['malformed_json'] });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    const blocked = await h.waitForState('blocked', 'audit', 30_000);
    expect(blocked.lastError?.type).toBe(FailureType.KandjiBadResponse);
    // Status and history get the shape of the answer, never its content (records are the data plane).
    expect(blocked.lastError?.message).toMatch(/not JSON \(\d+ bytes/);
    expect(blocked.lastError?.message).not.toContain('{"results"');
    expect(h.kandji.requestCount()).toBeGreaterThanOrEqual(2);
    h.kandji.setFaults({ rate: 0 });
    await waitFor('shipped after recovery', () => h.datadog.received.length >= 200, 30_000);
  });

  it('shows the first bytes of a 5xx HTML page while retrying', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 10, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 72 },
      env: { KANDJI_FETCH_ATTEMPTS: '1' },
    });
    // Kandji's load balancer answers 5xx with HTML: retried with backoff, the page's start shown in status.
    h.kandji.setFaults({ rate: 1, kinds: ['server_error_html'] });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    const s = await waitFor('error recorded', async () => (await h.status()).lastError ?? undefined, 30_000);
    expect(s.type).toBe(FailureType.KandjiUnavailable);
    expect(s.message).toMatch(/<(!doctype|html)/i);
    expect((await h.status()).state).toBe('retrying');
  });

  it('refuses a next link to another host (the token is never sent there) and reads on from its own cursor', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: {
        backlog: { count: 120, from: new Date(now - HOUR), to: new Date(now - 60_000) },
        publicBaseUrl: 'https://attacker.example.com',
        seed: 73,
      },
      env: { KANDJI_AUDIT_PAGE_SIZE: '50' },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    await waitFor('every event shipped', () => h.datadog.received.length >= 120, 30_000);
    const s = await h.waitForState('caught_up', 'audit', 30_000);
    expect(new Set(h.datadog.received.map((i) => i.id)).size).toBe(120);
    expect(s.counts.refusedLinks).toBeGreaterThanOrEqual(1);
    expect(s.lastError).toBeNull();
    // Every request went to the configured origin, none followed the foreign link.
    expect(h.kandji.requests.every((r) => r.query.cursor === undefined)).toBe(true);
    expect(JSON.stringify(s)).not.toContain(KANDJI_TOKEN);
  });
});
