/**
 * Operating a stream: pause and resume (nothing lost), a backfill of a past window (exactly that window again, the
 * live tail unaffected), and a raw UI signal with a bad payload (refused in status, the workflow keeps running).
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { requestBackfill, setPaused } from '../../src/streams/stream-control';
import { timestampKey } from '../../workflows/shared/timestamps';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;

describe('operating a stream', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('pause stops all traffic within a poll interval; resume continues with nothing lost', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 300, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 91 },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    await waitFor('backlog shipped', () => h.datadog.received.length >= 300, 30_000);
    h.kandji.audit.startLive({ perSecond: 10 });
    expect(await setPaused(h.client, h.tenant, ['audit'], true)).toEqual({ audit: 'paused' });
    await h.waitForState('paused', 'audit', 5_000);
    const kandjiBefore = h.kandji.requestCount();
    const ddBefore = h.datadog.requests.length;
    await new Promise((r) => setTimeout(r, 4_000));
    expect(h.kandji.requestCount()).toBe(kandjiBefore);
    expect(h.datadog.requests.length).toBe(ddBefore);
    const cursorWhilePaused = (await h.status()).cursor;

    await setPaused(h.client, h.tenant, ['audit'], false);
    h.kandji.audit.stopLive();
    const total = h.kandji.audit.size;
    await waitFor('everything shipped after resume', () => h.datadog.received.length >= total, 30_000);
    const ids = h.datadog.received.map((i) => i.id);
    expect(new Set(ids).size).toBe(total);
    expect(ids).toHaveLength(total);
    expect((await h.status()).cursor.since > cursorWhilePaused.since).toBe(true);
  });

  it('backfills exactly a past window again while the live tail keeps running', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 1_000, from: new Date(now - 2 * HOUR), to: new Date(now - 60_000) }, seed: 92 },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 3 * HOUR).toISOString());
    await waitFor('backlog shipped', () => h.datadog.received.length >= 1_000, 30_000);
    h.kandji.audit.startLive({ perSecond: 5 });

    const all = h.kandji.audit.all();
    const from = all[200]!.occurred_at;
    const to = all[599]!.occurred_at;
    const inWindow = new Set(all.filter((r) => r.occurred_at >= from && r.occurred_at <= to).map((r) => r.id));
    const accepted = await requestBackfill(h.client, h.tenant, 'audit', from, to);
    expect(accepted.workflowId).toContain(accepted.id);
    const done = await waitFor(
      'backfill done',
      async () => {
        const b = (await h.status()).backfills?.find((x) => x.id === accepted.id);
        return b?.state === 'done' ? b : undefined;
      },
      60_000,
    );
    expect(done.shipped).toBe(inWindow.size);
    h.kandji.audit.stopLive();
    const total = h.kandji.audit.size;
    await waitFor('live tail shipped', () => new Set(h.datadog.received.map((i) => i.id)).size >= total, 30_000);

    const counts = new Map<string, number>();
    for (const i of h.datadog.received) counts.set(String(i.id), (counts.get(String(i.id)) ?? 0) + 1);
    for (const r of h.kandji.audit.all()) expect([r.id, counts.get(r.id)]).toEqual([r.id, inWindow.has(r.id) ? 2 : 1]);
  });

  it('refuses a raw signal with a bad payload in status and keeps running; the CLI path fails loudly', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 50, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 93 },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    await h.waitForState('caught_up', 'audit', 30_000);

    // As the Temporal UI's "Send Signal" would: by name, with whatever JSON was typed.
    await h.auditHandle().signal('backfill', { from: 'yesterday', to: '2026-11-27T10:00:00Z' });
    await h.auditHandle().signal('pause', { please: true });
    const s = await waitFor(
      'refusal recorded',
      async () => {
        const st = await h.status();
        return st.lastError?.type === 'InvalidSignal' && st.lastError.message.includes('pause') ? st : undefined;
      },
      10_000,
    );
    expect(s.paused).toBe(false);
    expect(s.backfills ?? []).toHaveLength(0);
    expect((await h.auditHandle().describe()).status.name).toBe('RUNNING');

    // The same mistakes through the CLI's update fail at once, with the validator's message.
    await expect(
      requestBackfill(h.client, h.tenant, 'audit', '2026-11-27T10:00:00Z', '2026-11-27T09:00:00Z'),
    ).rejects.toThrow(WorkflowUpdateFailedError);
    const err = await requestBackfill(
      h.client,
      h.tenant,
      'audit',
      '2026-11-27T10:00:00Z',
      '2026-11-27T09:00:00Z',
    ).catch((e: Error) => e);
    expect(String((err as Error & { cause?: Error }).cause?.message ?? err)).toMatch(/"from" must be before "to"/);

    // A good signal still works afterwards.
    await h
      .auditHandle()
      .signal('backfill', { from: timestampKey(new Date(now - HOUR).toISOString()), to: new Date(now).toISOString() });
    await waitFor('backfill from the UI signal', async () => ((await h.status()).backfills ?? []).length === 1, 10_000);
  });
});
