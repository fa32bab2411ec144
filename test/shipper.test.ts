/**
 * The shipper against the Datadog intake simulator, without Temporal: one poison record among 1,000 is bisected
 * out and dead-lettered, the other 999 ship once; a 413 splits batches until they fit.
 */
import { DatadogIntakeClient } from '../src/datadog/intake-client';
import { shipItems } from '../src/datadog/shipper';
import { DatadogSimulator } from '../src/simulators/datadog';

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

  const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `e${String(i).padStart(4, '0')}`, ddsource: 'kandji', message: 'x'.repeat(100) }));

  it('bisects one poison record among 1,000 down to a dead letter, and ships the other 999 once', async () => {
    const all = items(1_000);
    dd.setPoison((item) => item.id === 'e0613');
    const progress = await shipItems(all, all.map((i) => i.id), { send: (body) => client.send(body) });
    expect(progress.accepted).toBe(999);
    expect(progress.deadLetters).toEqual([{ identity: 'e0613', status: 400, reason: expect.stringMatching(/400/) }]);
    const received = dd.received.map((i) => i.id);
    expect(received).toHaveLength(999);
    expect(new Set(received).size).toBe(999);
    expect(received).not.toContain('e0613');
    // log2(1000) ≈ 10 levels, two requests a level at most.
    expect(dd.requests.filter((r) => r.status === 400).length).toBeLessThanOrEqual(11);
  });

  it('halves batches on 413 until they fit', async () => {
    const all = items(1_000);
    dd.setMaxPayloadBytes(40_000);
    const progress = await shipItems(all, all.map((i) => i.id), { send: (body) => client.send(body) });
    expect(progress.accepted).toBe(1_000);
    expect(progress.deadLetters).toEqual([]);
    expect(dd.received.map((i) => i.id)).toEqual(all.map((i) => i.id));
    expect(dd.requests.some((r) => r.status === 413)).toBe(true);
  });
});
