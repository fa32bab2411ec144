import { formatStatusTable } from '../../src/processes/cli/format-status';
import type { StreamReport } from '../../src/streams/stream-control';
import { emptyCounts, type StreamStatus } from '../../workflows/shared/stream-status';

const status = (over: Partial<StreamStatus>): StreamStatus => ({
  tenant: 'acme',
  stream: 'audit',
  state: 'caught_up',
  cursor: { since: '2026-11-30T03:00:00.000000Z', page: null },
  counts: emptyCounts(),
  pollIntervalMs: 60_000,
  startedAt: '2026-11-30T00:00:00Z',
  lastPollAt: null,
  lastShipAt: null,
  caughtUpAt: null,
  lastError: null,
  lastDeadLetter: null,
  generation: 1,
  ...over,
});
const report = (s: StreamStatus): StreamReport => ({
  stream: s.stream,
  workflowId: 'w',
  execution: 'RUNNING',
  status: s,
});

describe('the status table', () => {
  it('says how many late events the polls and the late sweep caught, and the last hour swept', () => {
    const s = status({
      counts: { ...emptyCounts(), shipped: 10, late: 2, lateFound: 5, lateResent: 300 },
      lastLateSweep: { hour: '2026-11-30T01', at: '2026-11-30T03:01:00Z' },
    });
    const text = formatStatusTable('acme', [report(s)]);
    expect(text).toContain(
      'late events (audit): 2 caught by the polls, 5 by the late sweep, 300 sent again (hours too busy to list); last swept hour 2026-11-30T01:00Z at 2026-11-30T03:01:00Z',
    );
  });

  it('shows each parked late-sweep hour, when it is tried again and why, while the state stays caught up', () => {
    const s = status({
      lateSweep: {
        parked: [
          { hour: '2026-11-30T02', reason: 'waiting for the Kandji request budget', until: '2026-11-30T04:00:00.000Z' },
          {
            hour: '2026-11-30T01',
            reason: 'DatadogRefusedAllError: refused',
            until: '2026-11-30T03:10:00.000Z',
            failures: 2,
          },
        ],
      },
    });
    const text = formatStatusTable('acme', [report(s)]);
    expect(text).toContain('caught_up');
    expect(text).toContain(
      'late sweep parked (audit): hour 2026-11-30T02:00Z, tried again after 2026-11-30T04:00:00.000Z: waiting for the Kandji request budget',
    );
    expect(text).toContain(
      'late sweep parked (audit): hour 2026-11-30T01:00Z, tried again after 2026-11-30T03:10:00.000Z (failed 2 times): DatadogRefusedAllError: refused',
    );
  });

  it('has no late line for a stream that never saw a late event or swept', () => {
    expect(formatStatusTable('acme', [report(status({}))])).not.toContain('late events');
  });
});
