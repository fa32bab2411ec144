/**
 * Progress of shipItems holds only for the list it was made on (a fake intake, no Temporal): a resumed attempt given
 * another list — a page read again from Kandji — resumes by position only where that is provably right, and ships
 * again whatever is not provably shipped.
 */
import { shipItems, type ShipProgress } from '../../src/datadog/shipper';
import { RemoteError } from '../../src/remote-errors';

const ids = (...names: string[]) => names;
const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const itemsOf = (identities: readonly string[]) => identities.map((id) => ({ id }));

/** An intake that takes every request but the n-th ones listed (1-based: 503). */
function intake(...failing: number[]) {
  const sent: string[][] = [];
  let n = 0;
  const send = async (body: string) => {
    n += 1;
    if (failing.includes(n)) throw new RemoteError('datadog', 'unavailable', 'Datadog answered 503', { status: 503 });
    sent.push((JSON.parse(body) as { id: string }[]).map((i) => i.id));
  };
  return { send, sent };
}

/** Ships `list` in batches of 5 until the intake fails; returns the progress heartbeated, as Temporal stores it. */
async function firstAttempt(list: readonly string[], dd: ReturnType<typeof intake>): Promise<ShipProgress> {
  let heartbeat: ShipProgress | undefined;
  await expect(
    shipItems(itemsOf(list), list, {
      send: dd.send,
      limits: { maxItems: 5 },
      onProgress: (p) => (heartbeat = JSON.parse(JSON.stringify(p)) as ShipProgress),
    }),
  ).rejects.toThrow('503');
  return heartbeat!;
}

const resume = (list: readonly string[], dd: ReturnType<typeof intake>, progress: ShipProgress) =>
  shipItems(itemsOf(list), list, { send: dd.send, limits: { maxItems: 5 } }, progress);

describe('ship progress on another list', () => {
  it('events appended after the resume point: resumes where the first attempt stopped, nothing twice', async () => {
    const first = range('e', 12);
    const dd = intake(3);
    const progress = await firstAttempt(first, dd); // e0..e9 taken
    await resume([...first, ...ids('n0', 'n1')], dd, progress);
    expect(dd.sent.slice(2)).toEqual([ids('e10', 'e11', 'n0', 'n1')]);
  });

  it('an event inserted before the resume point: it is shipped, and nothing is lost', async () => {
    const first = range('e', 12);
    const dd = intake(3);
    const progress = await firstAttempt(first, dd);
    const changed = [...first.slice(0, 3), 'late', ...first.slice(3)];
    await resume(changed, dd, progress);
    const accepted = new Set(dd.sent.flat());
    expect(changed.filter((id) => !accepted.has(id))).toEqual([]);
  });

  it('an event gone before the resume point: the rest is shipped again from the start (duplicates, never a loss)', async () => {
    const first = range('e', 12);
    const dd = intake(3);
    const progress = await firstAttempt(first, dd);
    const changed = first.filter((id) => id !== 'e2');
    await resume(changed, dd, progress);
    expect(dd.sent.slice(2).flat()).toEqual(changed);
  });

  it('progress heartbeated by a version that kept no digest of its list is not trusted: the list is shipped again', async () => {
    const list = range('e', 12);
    const dd = intake();
    const old: ShipProgress = { doneIdentity: 'e9', accepted: 10, requests: 2, deadLetters: [] };
    await resume(list, dd, old);
    expect(dd.sent.flat()).toEqual(list);
  });
});
