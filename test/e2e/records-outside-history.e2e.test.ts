/**
 * Records never ride through workflow history: pages of large incompressible records ship completely, once, while
 * every payload written stays under 256 KB; a worker killed (SIGKILL) between fetch and ship loses nothing, and
 * the page is read again once from Kandji by whichever worker ships it.
 */
import { randomBytes } from 'node:crypto';
import { TRIMMED_ATTRIBUTE } from '../../src/datadog/trim-oversized';
import { largestPayloadBytes } from '../../src/temporal/history-payloads';
import { rawHistories } from '../../src/temporal/raw-history';
import { Harness, stripEnvelope } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const PAYLOAD_BOUND = 256 * 1024;

/** Audit events of a blueprint change whose new_state carries `bytes` of incompressible content. */
function largeEvents(count: number, bytes: number, prefix: string) {
  const start = Date.now() - 30 * 60_000;
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(5, '0')}`,
    action: 'blueprint_updated',
    occurred_at: new Date(start + i * 1000).toISOString().replace('Z', '123Z'),
    actor_type: 'user',
    actor_id: 'u-1',
    target_type: 'blueprint',
    target_id: `bp-${i}`,
    target_component: 'Blueprint',
    new_state: { script: randomBytes(bytes).toString('base64').slice(0, bytes) },
  }));
}

async function auditPayloadBound(h: Harness): Promise<number> {
  return largestPayloadBytes(await rawHistories(h.client, h.auditHandle().workflowId));
}

describe('records never ride through workflow history', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('ships a page of 500 events of 50 KB incompressible content each, once and unchanged; no payload over 256 KB', async () => {
    h = await Harness.start();
    const events = largeEvents(500, 50_000, 'big');
    h.kandji.audit.append(events);
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3_600_000).toISOString());
    await waitFor('all shipped', () => h.datadog.received.length >= 500, 90_000);
    await h.waitForState('caught_up', 'audit', 30_000);
    const byId = new Map(h.datadog.received.map((i) => [String(i.id), i]));
    expect(h.datadog.received).toHaveLength(500);
    for (const e of events) expect(stripEnvelope(byId.get(e.id)!)).toEqual(e);
    const largest = await auditPayloadBound(h);
    console.info(`500 × 50 KB page: largest payload in history ${largest} bytes`);
    expect(largest).toBeLessThanOrEqual(PAYLOAD_BOUND);
  });

  it('ships a page holding two records of 1 MB incompressible content (trimmed to fit Datadog), once; no payload over 256 KB', async () => {
    h = await Harness.start();
    const events = largeEvents(2, 1_000_000, 'huge');
    h.kandji.audit.append(events);
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3_600_000).toISOString());
    await waitFor('both shipped', () => h.datadog.received.length >= 2, 60_000);
    await h.waitForState('caught_up', 'audit', 30_000);
    expect(h.datadog.received.map((i) => i.id).sort()).toEqual(events.map((e) => e.id));
    for (const item of h.datadog.received) {
      const original = events.find((e) => e.id === item.id)!;
      expect(item[TRIMMED_ATTRIBUTE]).toBeDefined();
      // Everything but the trimmed script arrives unchanged.
      const { new_state: sent, [TRIMMED_ATTRIBUTE]: _, ...rest } = stripEnvelope(item);
      const { new_state: orig, ...origRest } = original;
      expect(rest).toEqual(origRest);
      expect(orig.script.startsWith(String((sent as { script: string }).script).slice(0, 1000))).toBe(true);
    }
    expect(h.datadog.truncated).toHaveLength(0);
    expect(await auditPayloadBound(h)).toBeLessThanOrEqual(PAYLOAD_BOUND);
  });

  it('loses nothing when the worker holding a fetched page is killed with SIGKILL before it ships; the page is read again once', async () => {
    h = await Harness.start({ env: { KANDJI_PAGE_HANDOFF: '3s', KANDJI_AUDIT_PAGE_SIZE: '100' } });
    const events = largeEvents(300, 2_000, 'k');
    h.kandji.audit.append(events);
    h.datadog.setOutage(true, 503); // fetched pages wait in the worker for Datadog
    const child = await h.spawnWorkerProcess({ KANDJI_AUDIT_PAGE_SIZE: '100' });
    await h.startAudit(new Date(Date.now() - 3_600_000).toISOString());
    await waitFor(
      'a page fetched and its ship failing',
      async () => (await h.status()).counts.fetched > 0 && h.datadog.requests.some((r) => r.status === 503),
      60_000,
    );
    // Datadog stays down a while: its retries read nothing again (the page waits in the worker).
    const auditReads = () => h.kandji.requests.filter((r) => r.path.startsWith('/api/v1/audit/events')).length;
    const readsAtFirstFailure = auditReads();
    await new Promise((r) => setTimeout(r, 5_000));
    const readsBeforeKill = auditReads();
    // Datadog's retries read nothing again: at most the read-ahead of the next unit, once.
    expect(h.datadog.requests.filter((r) => r.status === 503).length).toBeGreaterThan(2);
    expect(readsBeforeKill - readsAtFirstFailure).toBeLessThanOrEqual(1);
    await h.sigkill(child);

    h.datadog.setOutage(false);
    await h.startWorker();
    await waitFor('all shipped after the kill', () => new Set(h.datadog.received.map((i) => i.id)).size >= 300, 90_000);
    await h.waitForState('caught_up', 'audit', 30_000);
    const ids = h.datadog.received.map((i) => String(i.id));
    expect(new Set(ids).size).toBe(300);
    // Nothing was accepted before the kill (Datadog was down), so nothing may repeat.
    expect(ids).toHaveLength(300);
    const status = await h.status();
    expect(status.counts.reread ?? 0).toBeGreaterThanOrEqual(1);
    // One extra read per page the dead worker held (the page in flight and the one read ahead), not one per retry.
    console.info(
      `SIGKILL test: ${readsBeforeKill} audit reads before the kill, ${status.counts.reread} pages read again`,
    );
    expect(status.counts.reread).toBeLessThanOrEqual(2);
  });
});
