/**
 * Two worker processes; the one holding a snapshot sweep is killed with SIGKILL (no shutdown, no last heartbeat):
 * the other takes the sweep over within the heartbeat timeout, resumes it from the last heartbeat, and the stream
 * goes on — every row shipped, none lost.
 */
import { recordIdentity } from '../../src/streams/record-identity';
import { Harness } from '../helpers/harness';

const ROWS = 6_000;

describe('snapshot stream: a worker killed mid-sweep', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('kill -9 of the worker process holding the sweep: the other worker finishes it within minutes, nothing lost', async () => {
    const env = { KANDJI_SNAPSHOT_CHUNK_ROWS: '2000', DD_STALE_EVENTS: 'restamp', KANDJI_REQUESTS_PER_HOUR: '10000' };
    h = await Harness.start({ kandji: { detections: { count: ROWS }, seed: 81 }, env });
    const holder = await h.spawnWorkerProcess(env);
    // Datadog answers slowly: the sweep is still running when its worker dies.
    h.datadog.setFaults({ rate: 1, kinds: ['slow'], slowMs: 1_500 });
    await h.startSnapshot('detections');
    await h.datadog.waitForItems(1_000, 120_000);
    await h.spawnWorkerProcess(env);
    await h.sigkill(holder);
    h.datadog.setFaults({ rate: 0 });

    const s = await h.sweeps('detections', 1, 240_000);
    expect(s.cursor).toMatchObject({ known: ROWS });
    const shipped = new Set(h.datadog.received.map((i) => recordIdentity('detections', i)));
    expect(shipped.size).toBe(ROWS);
  });
});
