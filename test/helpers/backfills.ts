/** A world for backfill bookkeeping tests: backfills that start and stay running, as long ones would. */
import { Harness } from './harness';

const HOUR = 3_600_000;

/**
 * An audit stream caught up on a small backlog, after which Kandji refuses the token: backfills started from now on
 * stay running (blocked). Returns the harness and a window for them, inside the backlog.
 */
export async function auditWithBlockedBackfills(seed: number): Promise<{ h: Harness; from: string; to: string }> {
  const now = Date.now();
  const h = await Harness.start({
    kandji: { backlog: { count: 50, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed },
  });
  await h.startWorker();
  await h.startAudit(new Date(now - 2 * HOUR).toISOString());
  await h.waitForState('caught_up');
  h.kandji.setTokens([]);
  return { h, from: new Date(now - HOUR).toISOString(), to: new Date(now - 30 * 60_000).toISOString() };
}
