/**
 * The shipper against the Datadog intake simulator, without Temporal: one poison record among 1,000 is bisected
 * out and dead-lettered, the other 999 ship once; a 413 splits batches until they fit; a systemic refusal (400 to
 * everything, a wrong path, a proxy) dead-letters nothing and stops with Datadog's answer; more than 50 refused
 * records in one call stop too; a Datadog refusing everything for a while (it recovers, or starts, mid-bisection)
 * dead-letters nothing; progress heartbeated during a bisection resumes without re-sending anything taken.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps, TenantDeps } from '../../activities/deps';
import { shipRecords } from '../../activities/ship-records';
import { DatadogSimulator } from '../../simulators/datadog';
import { DatadogIntakeClient } from '../../src/datadog/intake-client';
import { DatadogRefusedAll, MAX_DEAD_LETTERS_PER_PAGE, shipItems, type ShipProgress } from '../../src/datadog/shipper';
import { RemoteError } from '../../src/remote-errors';
import { createLogger } from '../../src/telemetry/logger';

describe('shipItems against the intake simulator', () => {
  let dd: DatadogSimulator;
  let client: DatadogIntakeClient;
  beforeEach(async () => {
    dd = await DatadogSimulator.start({ apiKeys: ['k'] });
    client = new DatadogIntakeClient({ intakeUrl: dd.intakeUrl, apiKey: 'k' });
  });
  afterEach(async () => {
    await client.close();
    await dd.stop();
  });

  const items = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: `e${String(i).padStart(4, '0')}`,
      ddsource: 'kandji',
      message: 'x'.repeat(100),
    }));

  it('bisects one poison record among 1,000 down to a dead letter, and ships the other 999 once', async () => {
    const all = items(1_000);
    dd.setPoison((item) => item.id === 'e0613');
    const progress = await shipItems(
      all,
      all.map((i) => i.id),
      { send: (body) => client.send(body) },
    );
    expect(progress.accepted).toBe(999);
    expect(progress.deadLetters).toEqual([{ identity: 'e0613', status: 400, reason: expect.stringMatching(/400/) }]);
    const received = dd.received.map((i) => i.id);
    expect(received).toHaveLength(999);
    expect(new Set(received).size).toBe(999);
    expect(received).not.toContain('e0613');
    // log2(1000) ≈ 10 levels, two requests a level at most, and the record's second refusal alone (its proof).
    expect(dd.requests.filter((r) => r.status === 400).length).toBeLessThanOrEqual(12);
  });

  it('halves batches on 413 until they fit', async () => {
    const all = items(1_000);
    dd.setMaxPayloadBytes(40_000);
    const progress = await shipItems(
      all,
      all.map((i) => i.id),
      { send: (body) => client.send(body) },
    );
    expect(progress.accepted).toBe(1_000);
    expect(progress.deadLetters).toEqual([]);
    expect(dd.received.map((i) => i.id)).toEqual(all.map((i) => i.id));
    expect(dd.requests.some((r) => r.status === 413)).toBe(true);
  });

  const refused = async (p: Promise<unknown>): Promise<DatadogRefusedAll> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatadogRefusedAll);
    return err as DatadogRefusedAll;
  };
  const ids = () => dd.received.map((i) => String(i.id));

  /** A send that answers 400 to everything from request `from` to request `to` (1-based), and passes the rest. */
  const refusingBetween = (from: number, to: number) => {
    let n = 0;
    return async (body: string) => {
      n += 1;
      dd.setOutage(n >= from && n <= to, 400); // requests go one at a time
      try {
        await client.send(body);
      } finally {
        dd.setOutage(false);
      }
    };
  };

  it('a Datadog that answers 400 to everything and recovers in the middle of a bisection dead-letters nothing', async () => {
    const all = items(1_000);
    // 12 refusals: the whole batch, then halves down to the first record alone and a few records after it.
    const dead: unknown[] = [];
    const progress = await shipItems(
      all,
      all.map((i) => i.id),
      { send: refusingBetween(1, 12), onDeadLetter: (d) => dead.push(d) },
    );
    expect(dead).toEqual([]);
    expect(progress.deadLettered).toBe(0);
    expect(progress.accepted).toBe(1_000);
    expect(ids().sort()).toEqual(all.map((i) => i.id));
  });

  it('a Datadog that starts answering 400 to everything in the middle of a batch, for a while, dead-letters nothing', async () => {
    const all = items(1_000);
    dd.setPoison((item) => item.id === 'e0100'); // a bisection starts; the outage begins after its first acceptance
    const dead: { identity: string }[] = [];
    const progress = await shipItems(
      all,
      all.map((i) => i.id),
      { send: refusingBetween(4, 14), onDeadLetter: (d) => dead.push(d) },
    );
    expect(dead.map((d) => d.identity)).toEqual(['e0100']); // only the record Datadog refuses for itself
    expect(progress.accepted).toBe(999);
    expect(ids().sort()).toEqual(all.map((i) => i.id).filter((id) => id !== 'e0100'));
  });

  it('400 to everything: dead-letters nothing, stops with the answer, and later ships all 1,000 once', async () => {
    const all = items(1_000);
    dd.setOutage(true, 400);
    const progress: ShipProgress = { accepted: 0, requests: 0, deadLetters: [], deadLettered: 0 };
    const dead: unknown[] = [];
    const err = await refused(
      shipItems(
        all,
        all.map((i) => i.id),
        { send: (body) => client.send(body), onDeadLetter: (d) => dead.push(d) },
        progress,
      ),
    );
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/400/);
    expect(dead).toEqual([]);
    expect(progress.deadLettered).toBe(0);
    // Bounded: log2(1000) levels down to the first record, then about two requests per record up to the cap.
    const tries = dd.requests.length;
    expect(tries).toBeLessThanOrEqual(10 + 2 * (MAX_DEAD_LETTERS_PER_PAGE + 1) + 2);
    // Nothing was taken, so the resumed attempt starts at the first record.
    expect(progress.doneIdentity).toBeUndefined();
    dd.setOutage(false);
    const done = await shipItems(
      all,
      all.map((i) => i.id),
      { send: (body) => client.send(body) },
      JSON.parse(JSON.stringify(progress)) as ShipProgress,
    );
    expect(done.accepted).toBe(1_000);
    expect(done.deadLettered).toBe(0);
    expect(ids()).toEqual(all.map((i) => i.id));
  });

  it.each([404, 405, 407, 415])(
    '%i is the endpoint or a proxy, never a record: one request, no bisection',
    async (status) => {
      const all = items(1_000);
      dd.setOutage(true, status);
      const err = await refused(
        shipItems(
          all,
          all.map((i) => i.id),
          { send: (body) => client.send(body) },
        ),
      );
      expect(err.status).toBe(status);
      expect(err.message).toContain(String(status));
      expect(dd.requests).toHaveLength(1);
    },
  );

  it('a wrong DD_LOGS_URL path (404) stops at once with the answer', async () => {
    const wrong = new DatadogIntakeClient({ intakeUrl: `${dd.url}/api/v2/log`, apiKey: 'k' });
    try {
      const all = items(10);
      const err = await refused(
        shipItems(
          all,
          all.map((i) => i.id),
          { send: (body) => wrong.send(body) },
        ),
      );
      expect(err.status).toBe(404);
      expect(err.message).toMatch(/404: .*no route/);
    } finally {
      await wrong.close();
    }
  });

  it('refused records at the start of a batch wait for proof, then are dead-lettered', async () => {
    const all = items(1_000);
    dd.setPoison((item) => ['e0000', 'e0001', 'e0002'].includes(String(item.id)));
    const progress = await shipItems(
      all,
      all.map((i) => i.id),
      { send: (body) => client.send(body) },
    );
    expect(progress.deadLetters.map((d) => d.identity)).toEqual(['e0000', 'e0001', 'e0002']);
    expect(progress.accepted).toBe(997);
    expect(new Set(ids()).size).toBe(997);
  });

  it('a batch of one refused record has no proof: it stops rather than dead-letter it', async () => {
    const all = items(1);
    dd.setPoison(() => true);
    const err = await refused(
      shipItems(
        all,
        all.map((i) => i.id),
        { send: (body) => client.send(body) },
      ),
    );
    expect(err.status).toBe(400);
  });

  it('more than 50 refused records in one call stop shipping; the rest ships on resume, nothing twice', async () => {
    const all = items(1_000);
    const poisoned = new Set(all.filter((_, i) => i % 16 === 5).map((i) => i.id)); // 63 of them, spread out
    dd.setPoison((item) => poisoned.has(String(item.id)));
    const progress: ShipProgress = { accepted: 0, requests: 0, deadLetters: [], deadLettered: 0 };
    const err = await refused(
      shipItems(
        all,
        all.map((i) => i.id),
        { send: (body) => client.send(body) },
        progress,
      ),
    );
    expect(err.message).toMatch(/more than 50/);
    expect(progress.deadLettered).toBe(MAX_DEAD_LETTERS_PER_PAGE);
    const dead = new Set(
      all
        .map((i) => i.id)
        .filter((id) => poisoned.has(id))
        .slice(0, MAX_DEAD_LETTERS_PER_PAGE),
    );
    dd.setPoison(undefined); // Datadog takes them again
    const done = await shipItems(
      all,
      all.map((i) => i.id),
      { send: (body) => client.send(body) },
      JSON.parse(JSON.stringify(progress)) as ShipProgress,
    );
    expect(done.deadLettered).toBe(MAX_DEAD_LETTERS_PER_PAGE);
    expect(done.accepted).toBe(1_000 - MAX_DEAD_LETTERS_PER_PAGE);
    expect(ids().sort()).toEqual(all.map((i) => i.id).filter((id) => !dead.has(id)));
  });

  it('resumes a bisection from its last heartbeat without re-sending what Datadog took', async () => {
    const all = items(1_000);
    dd.setPoison((item) => item.id === 'e0700');
    let heartbeat: ShipProgress | undefined;
    let sends = 0;
    const crashing = (body: string) => {
      // The worker dies in the middle of the bisection (after the top-level 400 and a few halves).
      if (++sends === 6) return Promise.reject(new RemoteError('datadog', 'unavailable', 'worker lost'));
      return client.send(body);
    };
    const onProgress = (p: ShipProgress) => {
      heartbeat = JSON.parse(JSON.stringify(p)) as ShipProgress;
    };
    await expect(
      shipItems(
        all,
        all.map((i) => i.id),
        { send: crashing, onProgress },
      ),
    ).rejects.toThrow('worker lost');
    expect(heartbeat?.open).toBeDefined();
    expect(heartbeat!.accepted).toBeGreaterThan(0);
    const done = await shipItems(
      all,
      all.map((i) => i.id),
      { send: (body) => client.send(body), onProgress },
      heartbeat,
    );
    expect(done.accepted).toBe(999);
    expect(done.deadLetters.map((d) => d.identity)).toEqual(['e0700']);
    expect(ids()).toHaveLength(999);
    expect(new Set(ids()).size).toBe(999);
  });

  it('shipRecords blocks with DatadogRefusedAllError; the next attempt at the same page (a new activity) re-sends nothing Datadog took', async () => {
    const deps: ActivityDeps = {
      tenants: new Map([
        ['acme', { kandji: {} as TenantDeps['kandji'], ddtags: 'kandji_tenant:acme', datadog: client }],
      ]),
      datadog: client,
      logger: createLogger('silent'),
    };
    const at = new Date(Date.now() - 60_000).toISOString();
    const records = Array.from({ length: 1_000 }, (_, i) => ({
      id: `r${String(i).padStart(4, '0')}`,
      occurred_at: at,
      action: 'update',
    }));
    const poisoned = new Set(records.filter((_, i) => i % 16 === 9).map((r) => r.id));
    dd.setPoison((item) => poisoned.has(String(item.id)));
    const err = await shipRecords(deps, { tenant: 'acme', stream: 'audit', records }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('DatadogRefusedAllError');
    const takenBefore = dd.received.length;
    expect(takenBefore).toBeGreaterThan(0);
    dd.setPoison(undefined);
    const result = await shipRecords(deps, { tenant: 'acme', stream: 'audit', records });
    expect(result.deadLettered).toBe(MAX_DEAD_LETTERS_PER_PAGE);
    expect(result.shipped).toBe(1_000 - MAX_DEAD_LETTERS_PER_PAGE);
    const ids = dd.received.map((i) => String(i.id));
    expect(ids).toHaveLength(1_000 - MAX_DEAD_LETTERS_PER_PAGE);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
