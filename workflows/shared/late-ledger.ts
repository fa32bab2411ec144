/**
 * The audit stream's late-event ledger: what the stream handled, per hour of `occurred_at`, over Datadog's 18-hour
 * window, in a space that does not grow with the event rate. Pure code (no Node built-ins): the workflow keeps and
 * merges the ledger, the ship and sweep activities compute it.
 *
 * Why: an audit event can become visible in Kandji's API long after events with a later `occurred_at` were shipped.
 * The stream's polls re-read an overlap window (audit-cursor.ts) and catch those that are a few minutes late; an
 * event later than that lies before every later poll. The late sweep re-reads whole past hours a few times over the
 * 18 hours Datadog still takes a log for, and ships what the ledger says the stream never handled.
 *
 * Each hour holds an invertible Bloom lookup table (Goodrich and Mitzenmacher, "Invertible Bloom Lookup Tables",
 * 2011) of the ids the stream handled: CELLS cells of (count, sum of id keys, sum of key checks). Subtracting it
 * from the table of the ids a sweep reads leaves only the difference — the late events — and a difference of up to
 * a few dozen entries can be listed back ("peeled") exactly, whatever the hour held. Entries are added, so an id
 * counted twice never corrupts another one. A difference too large to list (a burst of late events in one hour) is
 * detected as such; the sweep then sends the whole hour again (at least once rather than never) and says so.
 */
import { FUTURE_SKEW_MS, keyAfter } from './audit-cursor';
import { idHash } from './overlap-digest';
import { keyToMillis, millisToKey } from './timestamps';

export const HOUR_MS = 3_600_000;
/** Datadog keeps a log only if it is at most 18 hours old: past that, a late event is beyond the sweep's reach. */
export const LATE_HORIZON_MS = 18 * HOUR_MS;
/**
 * When an hour is swept: once as soon as the polls no longer re-read it (a few minutes after it ended, on a stream
 * that keeps up), then 1, 3, 7 and 12 hours later, and a last time 16.5 hours later — an event up to about 17.5 hours
 * late is shipped while Datadog still takes it. Six reads of each hour in all, whatever the event rate.
 */
export const DEFAULT_SWEEP_TIERS_MS: readonly number[] = [0, 1, 3, 7, 12, 16.5].map((h) => h * HOUR_MS);

/** 3 sub-tables of 20 cells; each key lands in one cell of each. */
const HASHES = 3;
const SUB_CELLS = 20;
export const CELLS = HASHES * SUB_CELLS;
const P32 = 2 ** 32;
const P52 = 2 ** 52;

export interface LateLedger {
  /** The first time the ledger covers (a timestamp key): earlier events are never swept. */
  from: string;
  /** By hour (`YYYY-MM-DDTHH`, UTC). */
  hours: Record<string, LedgerHour>;
}

export interface LedgerHour {
  /** The table of the ids handled in this hour (encodeCells); absent when none. */
  cells?: string;
  /** How many of the sweep tiers this hour has had. */
  swept?: number;
  /** When it was first swept (epoch ms): the tiers count from then. */
  at?: number;
}

/**
 * What one ship or sweep adds to the ledger, per hour: a table (encodeCells), or — shorter for the few events of a
 * poll — `k:` and the keys themselves (base 36, comma-separated).
 */
export type LedgerDelta = Record<string, string>;

/** Below this many events of one hour, a delta lists their keys (about 10 characters each) instead of a table. */
const KEY_LIST_MAX = 40;

/** One table: CELLS × [count, key sum mod 2^52, check sum mod 2^32]. */
export type Cells = number[][];

const fmix32 = (x: number): number => {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

/** The 52-bit key of an event id. */
export function idKey(id: string): number {
  return parseInt(idHash(id), 16) % P52;
}

const lo32 = (key: number) => (key % P32) >>> 0;
const hi32 = (key: number) => Math.floor(key / P32) >>> 0;
const checkOf = (key: number): number => fmix32(lo32(key) ^ fmix32(hi32(key) + 0x9e3779b9));
const cellOf = (key: number, j: number): number =>
  j * SUB_CELLS + (fmix32((lo32(key) + Math.imul(hi32(key) ^ (j + 1), 0x27d4eb2d)) >>> 0) % SUB_CELLS);
const mod = (x: number, m: number) => ((x % m) + m) % m;

export function emptyCells(): Cells {
  return Array.from({ length: CELLS }, () => [0, 0, 0]);
}

/** Adds (sign 1) or removes (sign −1) one key. */
export function addKey(cells: Cells, key: number, sign: 1 | -1 = 1): void {
  const check = checkOf(key);
  for (let j = 0; j < HASHES; j++) {
    const c = cells[cellOf(key, j)]!;
    c[0]! += sign;
    c[1] = mod(c[1]! + sign * key, P52);
    c[2] = mod(c[2]! + sign * check, P32);
  }
}

/** a + sign·b, cell by cell. */
export function combineCells(a: Cells, b: Cells, sign: 1 | -1 = 1): Cells {
  return a.map((c, i) => {
    const d = b[i]!;
    return [c[0]! + sign * d[0]!, mod(c[1]! + sign * d[1]!, P52), mod(c[2]! + sign * d[2]!, P32)];
  });
}

/** Text form: one `count.key.check` (base 36) per cell, comma-separated, empty for an empty cell. */
export function encodeCells(cells: Cells): string {
  return cells
    .map((c) =>
      c[0] === 0 && c[1] === 0 && c[2] === 0 ? '' : `${c[0]!.toString(36)}.${c[1]!.toString(36)}.${c[2]!.toString(36)}`,
    )
    .join(',');
}

export function decodeCells(text: string | undefined): Cells {
  const cells = emptyCells();
  if (!text) return cells;
  text.split(',').forEach((cell, i) => {
    if (!cell || i >= CELLS) return;
    const [n, k, c] = cell.split('.');
    cells[i] = [parseInt(n!, 36), parseInt(k!, 36), parseInt(c!, 36)];
  });
  return cells;
}

export interface CellDifference {
  /** Keys in the first table and not in the second (read by a sweep, never handled: late). */
  added: number[];
  /** Keys in the second and not in the first (handled, no longer read). */
  removed: number[];
  /** False when the difference was too large to list entirely: `added` and `removed` are then partial. */
  complete: boolean;
}

/** Lists the keys of `read − handled` by peeling pure cells (count ±1 whose check matches its key). */
export function differenceOf(read: Cells, handled: Cells): CellDifference {
  const diff = combineCells(read, handled, -1);
  const added: number[] = [];
  const removed: number[] = [];
  for (let progress = true; progress;) {
    progress = false;
    for (const c of diff) {
      const sign = c[0];
      if (sign !== 1 && sign !== -1) continue;
      const key = sign === 1 ? c[1]! : mod(-c[1]!, P52);
      const check = sign === 1 ? c[2]! : mod(-c[2]!, P32);
      if (checkOf(key) !== check) continue;
      (sign === 1 ? added : removed).push(key);
      addKey(diff, key, sign === 1 ? -1 : 1);
      progress = true;
    }
  }
  return { added, removed, complete: diff.every((c) => c[0] === 0 && c[1] === 0 && c[2] === 0) };
}

/** `YYYY-MM-DDTHH` of a timestamp key. */
export const hourOf = (key: string): string => key.slice(0, 13);
export const hourStartKey = (hour: string): string => `${hour}:00:00.000000Z`;
export const hourEndKey = (hour: string): string => millisToKey(keyToMillis(hourStartKey(hour)) + HOUR_MS);
const hourOfMillis = (ms: number): string => hourOf(millisToKey(ms));

/**
 * A ledger for a stream that stands at `cursor`: it covers what comes after the newest event shipped — or, for a
 * stream that has shipped nothing yet, everything from where it starts.
 */
export function newLateLedger(cursor: { since: string; from?: string; digest?: string }): LateLedger {
  const fresh = cursor.from === cursor.since && !cursor.digest;
  return { from: fresh ? cursor.since : keyAfter(cursor.since), hours: {} };
}

/**
 * Tables of the events a ship handled, by hour, for the hours a sweep may still read (within the horizon of
 * `nowMs`, not before the ledger's `from`): what the ship activity reports to the workflow.
 *
 * Hours ahead of the clock are kept up to the clock-skew horizon, the hour of `nowMs + FUTURE_SKEW_MS` (the same
 * 15 minutes within which the audit cursor still follows an event, audit-cursor.ts): an event from a device a few
 * minutes fast, in the hour after the worker's, is recorded as handled, so the sweep of that hour does not ship it
 * again. Events further ahead (a device clock set to 2030) are left out, so they never pile up hours in the ledger;
 * a sweep reaches their hour only if the clock does, and may then ship them a second time.
 */
export function ledgerDelta(events: readonly { id: string; key: string }[], nowMs: number, from = ''): LedgerDelta {
  const oldest = hourOfMillis(nowMs - LATE_HORIZON_MS);
  const newest = hourOfMillis(nowMs + FUTURE_SKEW_MS);
  const keys = new Map<string, number[]>();
  for (const e of events) {
    const hour = hourOf(e.key);
    if (hour < oldest || hour > newest || e.key < from) continue;
    let list = keys.get(hour);
    if (!list) keys.set(hour, (list = []));
    list.push(idKey(e.id));
  }
  const out: LedgerDelta = {};
  for (const [hour, list] of [...keys].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (list.length <= KEY_LIST_MAX) {
      out[hour] = `k:${list.map((k) => k.toString(36)).join(',')}`;
      continue;
    }
    const cells = emptyCells();
    for (const key of list) addKey(cells, key);
    out[hour] = encodeCells(cells);
  }
  return out;
}

/** The table of a delta's hour, whichever form it has. */
function deltaCells(text: string): Cells {
  if (!text.startsWith('k:')) return decodeCells(text);
  const cells = emptyCells();
  for (const k of text.slice(2).split(',')) if (k) addKey(cells, parseInt(k, 36));
  return cells;
}

/** The ledger with a ship's or a sweep's tables added (hours before `from` are ignored). */
export function addToLedger(ledger: LateLedger, delta: LedgerDelta | undefined): LateLedger {
  if (!delta) return ledger;
  const hours = { ...ledger.hours };
  for (const [hour, text] of Object.entries(delta)) {
    if (hourEndKey(hour) <= ledger.from) continue;
    const before = hours[hour] ?? {};
    hours[hour] = { ...before, cells: encodeCells(combineCells(decodeCells(before.cells), deltaCells(text))) };
  }
  return { ...ledger, hours };
}

/** Drops the hours a sweep can no longer reach (ended before the horizon); keeps the ledger small. */
export function pruneLedger(ledger: LateLedger, nowMs: number): LateLedger {
  const hours: Record<string, LedgerHour> = {};
  for (const [hour, h] of Object.entries(ledger.hours))
    if (keyToMillis(hourEndKey(hour)) > nowMs - LATE_HORIZON_MS) hours[hour] = h;
  return { ...ledger, hours };
}

const tiersDone = (sinceFirstMs: number, tiers: readonly number[]) => tiers.filter((t) => t <= sinceFirstMs).length;

/**
 * The hours due for a sweep: covered by the ledger, no longer re-read by the polls (they end at or before
 * `settled`, where the stream's overlap window starts), still within the horizon, and never swept or due for their
 * next tier.
 */
export function dueLateHours(
  ledger: LateLedger,
  settled: string,
  nowMs: number,
  tiers: readonly number[] = DEFAULT_SWEEP_TIERS_MS,
): string[] {
  const due: string[] = [];
  const first = Math.floor(Math.max(keyToMillis(ledger.from), nowMs - LATE_HORIZON_MS) / HOUR_MS) * HOUR_MS;
  for (let start = first; start + HOUR_MS <= Math.min(keyToMillis(settled), nowMs); start += HOUR_MS) {
    const hour = hourOfMillis(start);
    const end = start + HOUR_MS;
    if (end <= nowMs - LATE_HORIZON_MS) continue;
    const { swept = 0, at = nowMs } = ledger.hours[hour] ?? {};
    if (swept < tiers.length && nowMs - at >= tiers[swept]!) due.push(hour);
  }
  return due;
}

/**
 * How long until the next hour that dueLateHours would list comes due (0: one is due now), or undefined when none
 * will without a poll moving `settled` first. The caught-up audit stream waits no longer than this for news.
 */
export function nextLateSweepInMs(
  ledger: LateLedger,
  settled: string,
  nowMs: number,
  tiers: readonly number[] = DEFAULT_SWEEP_TIERS_MS,
): number | undefined {
  let next: number | undefined;
  const first = Math.floor(Math.max(keyToMillis(ledger.from), nowMs - LATE_HORIZON_MS) / HOUR_MS) * HOUR_MS;
  for (let start = first; start + HOUR_MS <= Math.min(keyToMillis(settled), nowMs); start += HOUR_MS) {
    if (start + HOUR_MS <= nowMs - LATE_HORIZON_MS) continue;
    const { swept = 0, at = nowMs } = ledger.hours[hourOfMillis(start)] ?? {};
    if (swept >= tiers.length) continue;
    const inMs = Math.max(0, at + tiers[swept]! - nowMs);
    next = next === undefined ? inMs : Math.min(next, inMs);
  }
  return next;
}

/** The ledger after a sweep of `hours`: each has had every tier reached since its first sweep. */
export function markSwept(
  ledger: LateLedger,
  hours: readonly string[],
  nowMs: number,
  tiers: readonly number[] = DEFAULT_SWEEP_TIERS_MS,
): LateLedger {
  const next = { ...ledger, hours: { ...ledger.hours } };
  for (const hour of hours) {
    const before = next.hours[hour] ?? {};
    const at = before.at ?? nowMs;
    next.hours[hour] = { ...before, at, swept: Math.max((before.swept ?? 0) + 1, tiersDone(nowMs - at, tiers)) };
  }
  return next;
}

/**
 * A ledger for a cursor an operator moved: tracking starts again after both the old and the new position, so a
 * skipped stretch is never shipped by a sweep, and a rewound one (shipped again on purpose) never confuses it.
 */
export function restartLateLedger(oldSince: string, newSince: string): LateLedger {
  return { from: keyAfter(oldSince > newSince ? oldSince : newSince), hours: {} };
}
