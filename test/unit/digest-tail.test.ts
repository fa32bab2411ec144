/**
 * A read sends the workflow only what changed of the overlap digest (digestTail), and the workflow rebuilds the whole
 * digest from it (applyDigestTail): on every page of a busy, tie-heavy, late-riddled log the rebuilt cursor is the
 * one the read made, byte for byte; a digest that is no continuation goes whole in its tail.
 */
import { advanceAuditCursor, initialAuditCursor, type AuditCursor } from '../../workflows/shared/audit-cursor';
import { applyDigestTail, digestTail } from '../../workflows/shared/overlap-digest';

const T0 = Date.parse('2026-03-01T00:00:00Z');

/** A seeded pseudo-random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('digest tails', () => {
  it('rebuilds the whole next digest on every page of a busy log (ties, late events, an overlap of 5 minutes)', () => {
    const rnd = random(7);
    let cursor: AuditCursor = initialAuditCursor(new Date(T0).toISOString());
    let id = 0;
    let small = 0;
    for (let page = 0; page < 300; page++) {
      const nowMs = T0 + (page + 1) * 60_000;
      // About 60 events a minute; some share a second (ties), some are a few minutes late.
      const events = Array.from({ length: 40 + Math.floor(rnd() * 40) }, () => {
        const lateBy = rnd() < 0.05 ? rnd() * 240_000 : 0;
        const at = nowMs - 60_000 + Math.floor(rnd() * 60) * 1_000 - lateBy;
        return { id: `evt-${id++}`, occurred_at: new Date(at).toISOString() };
      });
      events.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
      const { next } = advanceAuditCursor(cursor, events, null, 300_000, nowMs);
      const tail = digestTail(cursor.digest, next.digest);
      expect(tail).toBeDefined();
      expect(applyDigestTail(cursor.digest, tail!)).toBe(next.digest);
      if (tail!.added.length < (next.digest ?? '').length / 2) small += 1;
      cursor = next;
    }
    // Once the overlap window is full, a page adds a minute's entries to a digest of five.
    expect(small).toBeGreaterThan(280);
  });

  it('a digest pruned to nothing, or grown from nothing, is rebuilt exactly; one that is not a continuation gets no tail', () => {
    const a = '00000001aaaaaaaaaaaaaa';
    const b = '00000002bbbbbbbbbbbbbb';
    expect(applyDigestTail(a + b, digestTail(a + b, undefined)!)).toBeUndefined();
    expect(applyDigestTail(undefined, digestTail(undefined, a + b)!)).toBe(a + b);
    expect(applyDigestTail(a, digestTail(a, a + b)!)).toBe(a + b);
    // An entry of `before` newer than what `after` keeps, yet missing from it: no tail can say that.
    expect(digestTail(a + b, a)).toBeUndefined();
  });
});
