/**
 * The cursor survives any end of a run (terminated, cancelled from the UI, completed), and so does the late-event
 * ledger (the hours the last run handled are still swept); an operator can move the cursor on purpose (skip ahead or
 * rewind) with an update, as the CLI does.
 */
import { moveAuditCursor, stopStream } from '../../src/streams/stream-control';
import { moveCursorSignal } from '../../workflows/shared/messages';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;

describe('the cursor across runs and on purpose', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it.each(['terminate', 'cancel'] as const)(
    'resumes exactly where a %sed run stood: nothing lost, nothing repeated',
    async (end) => {
      const now = Date.now();
      h = await Harness.start({
        kandji: { backlog: { count: 1_500, from: new Date(now - 5 * HOUR), to: new Date(now - 60_000) }, seed: 95 },
      });
      await h.startWorker();
      await h.startAudit(new Date(now - 6 * HOUR).toISOString());
      await waitFor('backlog shipped', () => h.datadog.received.length >= 1_500, 60_000);
      const before = await h.waitForState('caught_up', 'audit', 30_000);
      if (end === 'terminate') await h.auditHandle().terminate('operator');
      else {
        await h.auditHandle().cancel();
        // A cancel is a stop: the run completes with its cursor.
        expect((await h.auditHandle().result()).status.state).toBe('stopped');
      }
      h.kandji.audit.startLive({ perSecond: 20 });
      await new Promise((r) => setTimeout(r, 2_000));
      h.kandji.audit.stopLive();
      const again = await h.startAudit(new Date(now - 6 * HOUR).toISOString());
      expect(again.outcome).toBe('started');
      if (again.outcome === 'started') {
        expect(again.resumedFromPreviousRun).toBe(true);
        expect(again.resumedFrom).toMatch(
          end === 'terminate' ? /terminated run's last status/ : /completed run's result/,
        );
        expect(again.cursor.since).toBe(before.cursor.since);
      }
      await waitFor('live events shipped', () => h.datadog.received.length >= h.kandji.audit.size, 30_000);
      const ids = h.datadog.received.map((i) => String(i.id));
      expect(new Set(ids).size).toBe(h.kandji.audit.size);
      expect(ids).toHaveLength(h.kandji.audit.size);
    },
  );

  it('moves the cursor: a rewind re-ships from there on, a skip never ships what it passes', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 600, from: new Date(now - 6 * HOUR), to: new Date(now - 60_000) }, seed: 96 },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 7 * HOUR).toISOString());
    await waitFor('backlog shipped', () => h.datadog.received.length >= 600, 60_000);
    await h.waitForState('caught_up', 'audit', 30_000);

    const rewindTo = new Date(now - 2 * HOUR).toISOString();
    const expectedAgain = h.kandji.audit.all().filter((r) => Date.parse(r.occurred_at) >= Date.parse(rewindTo)).length;
    const moved = await moveAuditCursor(h.client, h.tenant, rewindTo);
    expect(moved.to < moved.from).toBe(true);
    await waitFor('window re-shipped', () => h.datadog.received.length >= 600 + expectedAgain, 30_000);
    await h.waitForState('caught_up', 'audit', 30_000);
    expect(h.datadog.received).toHaveLength(600 + expectedAgain);

    // A skip from the UI (signal): events between the cursor and the target are never shipped.
    const skipTo = new Date(now + 60_000).toISOString();
    await h.auditHandle().signal(moveCursorSignal, { to: skipTo });
    await waitFor('cursor moved', async () => (await h.status()).counts.cursorMoves === 2, 30_000);
    const [template] = h.kandji.audit.all();
    h.kandji.audit.append([{ ...template!, id: 'skipped-one', occurred_at: new Date(now + 30_000).toISOString() }]);
    h.kandji.audit.append([{ ...template!, id: 'after-skip', occurred_at: new Date(now + 90_000).toISOString() }]);
    await waitFor('event after the skip shipped', () => h.datadog.received.some((i) => i.id === 'after-skip'), 30_000);
    expect(h.datadog.received.some((i) => i.id === 'skipped-one')).toBe(false);

    // A malformed payload from the UI is refused in status and changes nothing.
    await h.auditHandle().signal(moveCursorSignal, { to: 'tomorrow' });
    await waitFor('signal refused', async () => (await h.status()).lastError?.type === 'InvalidSignal', 10_000);
    const refused = await moveAuditCursor(h.client, h.tenant, 'not a time').catch(
      (err: Error & { cause?: Error }) => err.cause?.message ?? err.message,
    );
    expect(refused).toMatch(/ISO-8601/);
  });

  it.each(['stop', 'terminate'] as const)(
    "after a %s and a start, a late event in an hour the previous run handled is found by the new run's sweep",
    async (end) => {
      const now = Date.now();
      h = await Harness.start({
        kandji: { backlog: { count: 300, from: new Date(now - 5 * HOUR), to: new Date(now - 60_000) }, seed: 97 },
        // Sweeps seconds apart instead of hours (the hours themselves are real), up to 4 minutes after the first.
        env: { KANDJI_AUDIT_LATE_SWEEPS: '5s,10s,20s,40s,60s,90s,120s,180s,240s' },
      });
      await h.startWorker();
      await h.startAudit(new Date(now - 6 * HOUR).toISOString());
      await waitFor('backlog shipped', () => h.datadog.received.length >= 300, 60_000);
      await h.waitForState('caught_up', 'audit', 30_000);
      if (end === 'stop') expect(await stopStream(h.client, h.tenant, 'audit')).toBe('stopped');
      else await h.auditHandle().terminate('operator');

      const again = await h.startAudit(new Date(now - 6 * HOUR).toISOString());
      expect(again).toMatchObject({ outcome: 'started', lateLedgerCarried: true });
      // Two hours late: far behind the polls' overlap window, in an hour the stopped run shipped.
      const late = h.kandji.audit.appendLate(2 * HOUR);
      await waitFor('the late event shipped', () => h.datadog.received.some((i) => i.id === late.id), 90_000);
      expect(h.datadog.received.filter((i) => i.id === late.id)).toHaveLength(1);
      expect(h.datadog.received).toHaveLength(301);
    },
    180_000,
  );
});
