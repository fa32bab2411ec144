/**
 * The simulator's audit event store: events kept sorted by (occurred_at, id) ascending, with
 * seeded backlog generation (including timestamp ties that straddle page boundaries), live
 * generation at "now", and keyset queries used by the HTTP layer.
 */
import { seededRandom } from '../faults';
import { AuditRecordFactory, type AuditRecord, type MakeRecordOptions } from './audit-records';
import { dateToMicros, nowMicros, parseInstant } from './time';

export type AuditSortBy = 'occurred_at' | '-occurred_at' | 'id' | '-id';
export const AUDIT_SORT_BY: readonly AuditSortBy[] = ['occurred_at', '-occurred_at', 'id', '-id'];

export interface BacklogOptions {
  count: number;
  from: Date;
  to: Date;
  /** Fraction of events that share the exact occurred_at of the previous event. Default 0.1. */
  tieFraction?: number;
}

export interface LiveOptions {
  /** New events per second (may be fractional). */
  perSecond: number;
  /** Fraction of live events that share the previous event's timestamp. Default 0.2. */
  tieFraction?: number;
  /**
   * Fraction of live events that become visible late: their occurred_at lies between
   * maxLateMs/10 and maxLateMs before the moment they are appended, so they sort before events
   * that were already served (a keyset reader positioned after them never sees them). Default 0.
   */
  lateFraction?: number;
  /** Upper bound of the lateness of late live events, in ms. Default 30000. */
  maxLateMs?: number;
}

/** An event with its parsed sort key. */
export interface StoredEvent {
  readonly record: AuditRecord;
  /** occurred_at in microseconds since the epoch. */
  readonly t: bigint;
  readonly id: string;
}

export interface AuditQuery {
  sortBy: AuditSortBy;
  /** Inclusive lower bound on occurred_at, microseconds. */
  start?: bigint;
  /** Inclusive upper bound on occurred_at, microseconds. */
  end?: bigint;
  /** Keyset position: only events strictly after this key in the sort order are returned. */
  after?: { t: bigint; id: string };
  limit: number;
}

/** Size of the long tie run guaranteed in backlogs of >= 3000 events (1.5 × the 500 page size). */
export const LONG_TIE_RUN = 750;

interface Entry extends StoredEvent {
  json?: string;
}

function cmpTime(a: { t: bigint; id: string }, b: { t: bigint; id: string }): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function cmpId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** First index i in sorted `arr` with !(before(arr[i])), i.e. lower bound for a predicate. */
function partitionPoint<T>(arr: readonly T[], before: (x: T) => boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(arr[mid] as T)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class AuditStore {
  private readonly factory: AuditRecordFactory;
  private readonly random: () => number;
  private entries: Entry[] = [];
  private byId: Entry[] | undefined;
  private readonly ids = new Set<string>();
  private liveTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(added: readonly AuditRecord[]) => void>();

  constructor(opts: { seed?: number } = {}) {
    const seed = opts.seed ?? 1;
    this.factory = new AuditRecordFactory(seed);
    this.random = seededRandom((seed * 2654435761 + 12345) >>> 0);
  }

  get size(): number {
    return this.entries.length;
  }

  /** A copy of all events, sorted by (occurred_at, id) ascending. */
  all(): AuditRecord[] {
    return this.entries.map((e) => e.record);
  }

  /** Latest occurred_at in the store (microseconds), if any. */
  get maxMicros(): bigint | undefined {
    return this.entries[this.entries.length - 1]?.t;
  }

  /** Called after each append (backlog, live or manual) with the records added. */
  onAppend(listener: (added: readonly AuditRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Adds records (e.g. from tests). Each needs a unique `id`, an `action` and a parseable
   * `occurred_at`; the store keeps (occurred_at, id) order whatever the input order.
   */
  append(records: readonly AuditRecord[]): void {
    const added: Entry[] = [];
    const seen = new Set<string>();
    for (const record of records) {
      if (typeof record.id !== 'string' || record.id === '') throw new TypeError('audit record needs a string id');
      if (typeof record.action !== 'string') throw new TypeError(`audit record ${record.id} needs an action`);
      if (this.ids.has(record.id) || seen.has(record.id)) throw new Error(`duplicate audit record id ${record.id}`);
      const parsed = typeof record.occurred_at === 'string' ? parseInstant(record.occurred_at) : undefined;
      if (!parsed || parsed.dateOnly) throw new TypeError(`audit record ${record.id} has invalid occurred_at`);
      seen.add(record.id);
      added.push({ record, t: parsed.micros, id: record.id });
    }
    if (added.length === 0) return;
    for (const e of added) {
      this.ids.add(e.id);
      this.factory.reserveId(e.id);
    }
    added.sort(cmpTime);
    const last = this.entries[this.entries.length - 1];
    const first = added[0] as Entry;
    if (!last || cmpTime(last, first) < 0) {
      for (const e of added) this.entries.push(e);
    } else if (added.length <= 32) {
      // A few late records: binary-search insertion instead of a full re-sort.
      for (const e of added)
        this.entries.splice(
          partitionPoint(this.entries, (x) => cmpTime(x, e) < 0),
          0,
          e,
        );
    } else {
      this.entries = this.entries.concat(added).sort(cmpTime);
    }
    this.byId = undefined;
    const recs = added.map((e) => e.record);
    for (const l of this.listeners) l(recs);
  }

  /**
   * Generates `count` events spread over [from, to]. A fraction `tieFraction` (default 0.1) of
   * events share the exact occurred_at of the previous one; with count >= 3000 (and ties
   * enabled) one run of 750 events shares a single timestamp, so ties straddle 500-event pages.
   */
  generateBacklog(opts: BacklogOptions): AuditRecord[] {
    const { count } = opts;
    const tieFraction = opts.tieFraction ?? 0.1;
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`backlog count must be a non-negative integer`);
    if (!(tieFraction >= 0 && tieFraction < 1)) throw new RangeError('tieFraction must be in [0, 1)');
    const from = dateToMicros(opts.from);
    const to = dateToMicros(opts.to);
    if (to < from) throw new RangeError('backlog `to` is before `from`');
    if (count === 0) return [];
    const r = this.random;

    // tie[i]: event i shares the timestamp of event i-1.
    const tie = new Array<boolean>(count).fill(false);
    for (let i = 1; i < count; i++) tie[i] = r() < tieFraction;
    if (count >= 3000 && tieFraction > 0) {
      const start = Math.floor(count * (0.3 + 0.3 * r()));
      for (let i = start + 1; i < start + LONG_TIE_RUN && i < count; i++) tie[i] = true;
      if (start + LONG_TIE_RUN < count) tie[start + LONG_TIE_RUN] = false;
    }
    const distinct = tie.filter((x) => !x).length;

    // Distinct, strictly increasing timestamps: one per equal slice of the window, jittered.
    const span = Number(to - from);
    const step = distinct > 0 ? span / distinct : 0;
    const records: AuditRecord[] = [];
    let t = from;
    let slot = -1;
    let prev: bigint | undefined;
    for (let i = 0; i < count; i++) {
      if (!tie[i]) {
        slot++;
        t = from + BigInt(Math.floor(slot * step + r() * step * 0.9));
        if (prev !== undefined && t <= prev) t = prev + 1n;
        prev = t;
      }
      records.push(this.factory.make(t));
    }
    this.append(records);
    return records;
  }

  /**
   * Starts appending new events at the current time, `perSecond` on average; within a tick,
   * a fraction `tieFraction` of events share the previous event's timestamp. On-time live
   * timestamps never go backwards and are always after every event already in the store; a
   * fraction `lateFraction` (default 0) of events are instead late, with an occurred_at up to
   * `maxLateMs` in the past (see LiveOptions), inserted in (occurred_at, id) order. The timer
   * is unref()ed; call stopLive() to end it.
   */
  startLive(opts: LiveOptions): void {
    this.stopLive();
    const { perSecond } = opts;
    const tieFraction = opts.tieFraction ?? 0.2;
    const lateFraction = opts.lateFraction ?? 0;
    const maxLateMs = opts.maxLateMs ?? 30_000;
    if (!(lateFraction >= 0 && lateFraction <= 1)) throw new RangeError('lateFraction must be in [0, 1]');
    if (!(maxLateMs > 0)) throw new RangeError('maxLateMs must be > 0');
    if (!(perSecond > 0)) return;
    const tickMs = 100;
    const startedAt = Date.now();
    let emitted = 0;
    const r = this.random;
    this.liveTimer = setInterval(() => {
      const due = Math.floor(((Date.now() - startedAt) / 1000) * perSecond) - emitted;
      if (due <= 0) return;
      let late = 0;
      if (lateFraction > 0) for (let i = 0; i < due; i++) if (r() < lateFraction) late++;
      emitted += due;
      const batch: AuditRecord[] = this.makeOnTime(due - late, tieFraction);
      for (let i = 0; i < late; i++) {
        const lateMs = maxLateMs * (0.1 + 0.9 * r());
        batch.push(this.factory.make(nowMicros() - BigInt(Math.floor(lateMs * 1000))));
      }
      this.append(batch);
    }, tickMs);
    this.liveTimer.unref();
  }

  /** `count` events at "now", after every event in the store (see startLive). */
  private makeOnTime(count: number, tieFraction: number): AuditRecord[] {
    const r = this.random;
    const batch: AuditRecord[] = [];
    if (count <= 0) return batch;
    const last = this.entries[this.entries.length - 1];
    let t = nowMicros();
    let first = true;
    if (last && t <= last.t) t = last.t + 1n;
    if (last && r() < tieFraction && t - last.t < 1_000_000n) {
      // Same timestamp as the newest published event; its id sorts after that event's id,
      // so keyset readers positioned on that event still find it.
      batch.push(this.factory.make(last.t, { idAfter: last.id }));
      t = last.t;
      first = false;
    }
    for (let i = batch.length; i < count; i++) {
      const prev = batch[batch.length - 1];
      if (prev && r() < tieFraction) {
        // Ties get increasing ids, like ULIDs minted within one millisecond.
        batch.push(this.factory.make(t, { idAfter: prev.id }));
      } else {
        if (!first) t += 1n;
        batch.push(this.factory.make(t));
      }
      first = false;
    }
    return batch;
  }

  /**
   * Appends one generated event whose occurred_at is `ageMs` before now: an event that becomes
   * visible late, after newer events may already have been served. Returns it.
   */
  appendLate(ageMs: number, opts: MakeRecordOptions = {}): AuditRecord {
    if (!(ageMs >= 0)) throw new RangeError('ageMs must be >= 0');
    const record = this.factory.make(nowMicros() - BigInt(Math.floor(ageMs * 1000)), opts);
    this.append([record]);
    return record;
  }

  stopLive(): void {
    if (this.liveTimer) clearInterval(this.liveTimer);
    this.liveTimer = undefined;
  }

  get live(): boolean {
    return this.liveTimer !== undefined;
  }

  /** Keyset query: up to `limit` events matching the filters, strictly after `after`. */
  query(q: AuditQuery): StoredEvent[] {
    const { sortBy, start, end, after, limit } = q;
    const out: Entry[] = [];
    const inRange = (e: Entry): boolean => (start === undefined || e.t >= start) && (end === undefined || e.t <= end);
    const arr = this.entries;
    if (sortBy === 'occurred_at') {
      let i = start === undefined ? 0 : partitionPoint(arr, (e) => e.t < start);
      if (after)
        i = Math.max(
          i,
          partitionPoint(arr, (e) => cmpTime(e, after) <= 0),
        );
      for (; i < arr.length && out.length < limit; i++) {
        const e = arr[i] as Entry;
        if (end !== undefined && e.t > end) break;
        out.push(e);
      }
    } else if (sortBy === '-occurred_at') {
      let i = (end === undefined ? arr.length : partitionPoint(arr, (e) => e.t <= end)) - 1;
      if (after) i = Math.min(i, partitionPoint(arr, (e) => cmpTime(e, after) < 0) - 1);
      for (; i >= 0 && out.length < limit; i--) {
        const e = arr[i] as Entry;
        if (start !== undefined && e.t < start) break;
        out.push(e);
      }
    } else {
      const ids = this.sortedById();
      if (sortBy === 'id') {
        let i = after ? partitionPoint(ids, (e) => cmpId(e, after) <= 0) : 0;
        for (; i < ids.length && out.length < limit; i++) {
          const e = ids[i] as Entry;
          if (inRange(e)) out.push(e);
        }
      } else {
        let i = (after ? partitionPoint(ids, (e) => cmpId(e, after) < 0) : ids.length) - 1;
        for (; i >= 0 && out.length < limit; i--) {
          const e = ids[i] as Entry;
          if (inRange(e)) out.push(e);
        }
      }
    }
    return out;
  }

  /** JSON text of a stored event (cached). */
  json(e: StoredEvent): string {
    const entry = e as Entry;
    entry.json ??= JSON.stringify(entry.record);
    return entry.json;
  }

  private sortedById(): Entry[] {
    this.byId ??= this.entries.slice().sort(cmpId);
    return this.byId;
  }
}
