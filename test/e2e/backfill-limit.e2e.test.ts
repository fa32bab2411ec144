/** A stream runs at most MAX_RUNNING_BACKFILLS backfills at once; more are refused with a clear message. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { cancelBackfills, requestBackfill } from '../../src/streams/stream-control';
import { MAX_RUNNING_BACKFILLS } from '../../workflows/backfills';
import { auditWithBlockedBackfills } from '../helpers/backfills';
import type { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

describe('backfill limit', () => {
  let h: Harness;
  afterAll(async () => {
    await h?.close();
  });

  it('refuses a fourth running backfill from the CLI (update) and the UI (signal), and accepts one again after a cancel', async () => {
    expect(MAX_RUNNING_BACKFILLS).toBe(3);
    // Backfills start and stay running (blocked), as long ones would.
    let from: string, to: string;
    ({ h, from, to } = await auditWithBlockedBackfills(121));
    const accepted = [];
    for (let i = 0; i < 3; i++) accepted.push(await requestBackfill(h.client, h.tenant, 'audit', from, to));

    const err = await requestBackfill(h.client, h.tenant, 'audit', from, to).catch((e: Error) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const message = String((err as Error & { cause?: Error }).cause?.message);
    expect(message).toMatch(
      /3 backfills are already running on this stream \(bf-\w+, bf-\w+, bf-\w+\), at most 3 at once/,
    );
    expect(message).toContain('cancel-backfill --id');

    await h.auditHandle().signal('backfill', { from, to });
    const s = await waitFor(
      'signal refused',
      async () => {
        const st = await h.status();
        return st.lastError?.type === 'InvalidSignal' && /at most 3/.test(st.lastError.message) ? st : undefined;
      },
      10_000,
    );
    expect(s.backfills?.filter((b) => b.state === 'running')).toHaveLength(3);

    expect(await cancelBackfills(h.client, h.tenant, 'audit', accepted[0]!.id)).toEqual([accepted[0]!.id]);
    const fourth = await requestBackfill(h.client, h.tenant, 'audit', from, to);
    expect(fourth.id).toMatch(/^bf-/);
    expect(
      (await h.status()).backfills
        ?.filter((b) => b.state === 'running')
        .map((b) => b.id)
        .sort(),
    ).toEqual([accepted[1]!.id, accepted[2]!.id, fourth.id].sort());
  });
});
