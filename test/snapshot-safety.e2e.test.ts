/**
 * Snapshot safety and backfill bookkeeping, against the real dev server and the simulators: one test per guarantee.
 */
import { cancelBackfills, requestBackfill } from '../src/streams/stream-control';
import { auditWithBlockedBackfills } from './helpers/backfills';
import { Harness } from './helpers/harness';
import { waitFor } from './helpers/wait';

describe('snapshot safety', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('cancels every running backfill when one of them has already closed without reporting', async () => {
    // Backfills start and stay running (blocked), as long ones would.
    let from: string, to: string;
    ({ h, from, to } = await auditWithBlockedBackfills(132));
    const accepted: Awaited<ReturnType<typeof requestBackfill>>[] = [];
    for (let i = 0; i < 3; i++) accepted.push(await requestBackfill(h.client, h.tenant, 'audit', from, to));
    // The first one's workflow closes without telling the stream (terminated from the UI, say).
    await h.client.workflow.getHandle(accepted[0]!.workflowId).terminate('gone before the cancel');

    const cancelled = await cancelBackfills(h.client, h.tenant, 'audit');
    expect([...cancelled].sort()).toEqual(accepted.map((a) => a.id).sort());
    const s = await h.status();
    for (const a of accepted) expect(s.backfills?.find((b) => b.id === a.id)?.state).toBe('cancelled');
    expect(s.backfills?.find((b) => b.id === accepted[0]!.id)?.note).toMatch(/already closed/);
    expect(s.backfills?.find((b) => b.id === accepted[1]!.id)?.note).toBeUndefined();
    // The other two were told to stop, and did.
    for (const a of accepted.slice(1)) {
      await waitFor(`${a.id} closed`, async () => (await h.client.workflow.getHandle(a.workflowId).describe()).status.name === 'COMPLETED', 30_000);
    }
  });
});
