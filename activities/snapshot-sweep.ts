/**
 * One attempt of a snapshot sweep (activities/sweep-snapshot-state.ts): loads what the last complete sweep saw, and
 * what this sweep saw before (chunks written by earlier attempts, the heartbeat's pending part), then reads the
 * whole list page by page, ships the rows not seen before, writes what it saw as chunks of its generation, and
 * checkpoints after every page.
 */
import { activityLogger } from './activity-logger';
import { tenantDeps, type ActivityDeps } from './deps';
import { shipRecords, type ShipRecordsResult } from './ship-records';
import type { SnapshotChunks } from './snapshot-chunks';
import type { SweepHeartbeats } from './sweep-heartbeats';
import type { SweepProgress, SweepSnapshotStateInput, SweepSnapshotStateResult } from './sweep-snapshot-state';
import { firstSnapshotPosition, readSnapshotPage } from '../src/kandji/snapshot-pages';
import {
  Fingerprint64Set,
  decodeFingerprints,
  encodeFingerprints,
  fingerprint64,
} from '../src/streams/fingerprint64-set';
import { lacksIdentity, versionKey } from '../src/streams/record-identity';

/** Fingerprints per state chunk: 20,000 × 8 bytes is 213 KB as base64, under the 256 KB payload bound. */
export const SNAPSHOT_CHUNK_ROWS = 20_000;
/**
 * A state this small rides inline in the workflow (5.3 KB as base64) instead of in a chunk workflow: a tenant with a
 * handful of detections does not start and drop a workflow at every sweep.
 */
export const INLINE_STATE_ROWS = 500;

/** Dead letters a sweep's result keeps (all are logged and counted). */
const DEAD_LETTERS_KEPT = 20;

export interface SweepTools {
  chunks: SnapshotChunks;
  heartbeats: SweepHeartbeats;
  signal: AbortSignal;
  /** The progress an earlier attempt or activity of this sweep reached, if any. */
  resumed: SweepProgress | undefined;
}

export class SnapshotSweep {
  private readonly tenant: ReturnType<typeof tenantDeps>;
  private readonly chunkRows: number;
  /** What the last complete sweep saw. */
  private readonly previous: Fingerprint64Set;
  /** Shipped by a sweep still waiting for confirmation: not shipped again, not counted as previous rows. */
  private readonly unconfirmed: Fingerprint64Set;
  /** What this sweep saw so far. */
  private current = new Fingerprint64Set(1024);
  /** Seen since the last chunk written. */
  private pending: bigint[] = [];
  /** Where this sweep is (set once the state it compares with is loaded). */
  private sweep!: SweepProgress;
  private readonly deadLetters: ShipRecordsResult['deadLetters'] = [];
  private stalePolicy: ShipRecordsResult['stale']['policy'];

  constructor(
    private readonly deps: ActivityDeps,
    private readonly input: SweepSnapshotStateInput,
    private readonly tools: SweepTools,
  ) {
    this.tenant = tenantDeps(deps, input.tenant);
    this.chunkRows = deps.snapshotChunkRows ?? SNAPSHOT_CHUNK_ROWS;
    this.previous = new Fingerprint64Set(input.previous?.rows ?? 0);
    this.unconfirmed = new Fingerprint64Set(input.unconfirmed?.rows ?? 0);
    this.stalePolicy = deps.stalePolicy ?? 'ship';
  }

  async run(): Promise<SweepSnapshotStateResult> {
    await this.loadSeen();
    await this.loadOwnProgress();
    const { sweep } = this;
    while (!sweep.done) {
      const page = await readSnapshotPage(this.tenant.kandji, this.input.stream, sweep.position, sweep.pages, {
        signal: this.tools.signal,
        keepAlive: this.tools.heartbeats.keepAlive,
      });
      await this.shipUnseen(page.rows);
      sweep.position = page.next;
      sweep.done = page.done;
      sweep.pages += 1;
      await this.flush(sweep.done);
      this.tools.heartbeats.checkpoint({
        ...sweep,
        pending: encodeFingerprints(this.pending),
        ship: { ...sweep.ship },
      });
    }
    return this.finish();
  }

  private freshProgress(): SweepProgress {
    const { input, deps } = this;
    return {
      position: firstSnapshotPosition(input.stream, this.tenant.behavioralWindowDays, deps.now?.() ?? Date.now()),
      done: false,
      chunksWritten: 0,
      pending: '',
      rows: 0,
      fresh: 0,
      pages: 0,
      matched: 0,
      ship: { shipped: 0, batches: 0, deadLettered: 0, trimmed: 0, stale: 0 },
    };
  }

  /** What the last complete sweep saw, and what an unconfirmed sweep shipped. */
  private async loadSeen(): Promise<void> {
    const { input, previous, unconfirmed } = this;
    const { chunks, heartbeats } = this.tools;
    if (input.previous?.inline) for (const fp of decodeFingerprints(input.previous.inline)) previous.add(fp);
    if (input.previous)
      for await (const part of chunks.readAll(input.previous, heartbeats.keepAlive))
        for (const fp of part) previous.add(fp);
    if (input.unconfirmed)
      for await (const part of chunks.readAll(input.unconfirmed, heartbeats.keepAlive))
        for (const fp of part) unconfirmed.add(fp);
  }

  /** What this sweep has seen so far: the chunks written by earlier attempts, then the heartbeat's pending part. */
  private async loadOwnProgress(): Promise<void> {
    const { resumed } = this.tools;
    const sweep = resumed ? structuredClone(resumed) : this.freshProgress();
    this.sweep = sweep;
    const current = new Fingerprint64Set(Math.max(this.previous.size, 1024));
    for (let i = 0; i < sweep.chunksWritten; i++) {
      for (const fp of await this.tools.chunks.read(this.input.generation, i)) current.add(fp);
      this.tools.heartbeats.keepAlive();
    }
    this.pending = [...decodeFingerprints(sweep.pending)];
    for (const fp of this.pending) current.add(fp);
    for (const fp of decodeFingerprints(sweep.inline ?? '')) current.add(fp);
    this.current = current;
  }

  /** This complete sweep saw exactly the rows of the committed state (so writing it again would change nothing). */
  private sameAsPrevious(): boolean {
    const { input, sweep, previous } = this;
    return (
      input.acceptUnchanged === true &&
      input.previous !== null &&
      !input.reship &&
      sweep.fresh === 0 &&
      sweep.matched === previous.size &&
      this.current.size === previous.size
    );
  }

  /** Ships the rows of one page not seen before; remembers every row of the page. */
  private async shipUnseen(rows: Record<string, unknown>[]): Promise<void> {
    const fresh = this.unseen(rows);
    this.sweep.rows += rows.length;
    if (fresh.length === 0) return;
    const { input } = this;
    const shipped = await shipRecords(
      this.deps,
      { tenant: input.tenant, stream: input.stream, records: fresh },
      // Bisecting a refused batch can take many requests: heartbeat (the last checkpoint) after each.
      { signal: this.tools.signal, onBatchDone: this.tools.heartbeats.keepAlive },
    );
    const { ship } = this.sweep;
    this.sweep.fresh += fresh.length;
    ship.shipped += shipped.shipped;
    ship.batches += shipped.batches;
    ship.deadLettered += shipped.deadLettered;
    ship.trimmed += shipped.trimmed;
    ship.stale += shipped.stale.count;
    const room = DEAD_LETTERS_KEPT - this.deadLetters.length;
    if (room > 0) this.deadLetters.push(...shipped.deadLetters.slice(0, room));
    this.stalePolicy = shipped.stale.policy;
  }

  /** The rows of a page to ship: new ones (for threats, new versions), all of them for a re-ship. */
  private unseen(rows: Record<string, unknown>[]): Record<string, unknown>[] {
    const { input, sweep } = this;
    const fresh: Record<string, unknown>[] = [];
    for (const row of rows) {
      const fp = fingerprint64(versionKey(input.stream, row));
      if (!this.current.add(fp)) continue; // re-read (threat page overlap) or a repeat inside the sweep
      this.pending.push(fp);
      if (this.previous.has(fp) && !input.reship) sweep.matched += 1;
      else if (!this.unconfirmed.has(fp) || input.reship) {
        fresh.push(row);
        if (lacksIdentity(input.stream, row)) sweep.withoutIdentity = (sweep.withoutIdentity ?? 0) + 1;
      }
    }
    return fresh;
  }

  /** Writes full chunks out of `pending`; `all` also writes the last, partial one (unless nothing changed). */
  private async flush(all: boolean): Promise<void> {
    const { sweep, chunkRows } = this;
    if (all && this.sameAsPrevious()) return;
    if (all && sweep.chunksWritten === 0 && this.pending.length <= INLINE_STATE_ROWS) {
      sweep.inline = encodeFingerprints(this.pending);
      this.pending = [];
      return;
    }
    while (this.pending.length >= chunkRows || (all && this.pending.length > 0)) {
      await this.tools.chunks.write(this.input.generation, sweep.chunksWritten, this.pending.slice(0, chunkRows));
      sweep.chunksWritten += 1;
      this.pending = this.pending.slice(chunkRows);
    }
  }

  /** The whole list read: an unchanged sweep ends what it wrote on the way; the result for the workflow. */
  private async finish(): Promise<SweepSnapshotStateResult> {
    const { input, sweep } = this;
    // Also when resumed from the heartbeat of an attempt that completed the sweep (its pending rows unwritten).
    const unchanged = this.sameAsPrevious();
    const gone = this.previous.size - sweep.matched;
    if (unchanged && sweep.chunksWritten > 0) {
      // Full chunks written on the way (a state over a chunk): the committed state already holds these rows.
      const written = { generation: input.generation, chunks: sweep.chunksWritten, rows: 0 };
      await this.tools.chunks.drop(written, this.tools.heartbeats.keepAlive);
    }
    // A caught-up stream polls unchanged every interval: that is not news for the log (its count is a metric).
    const known = this.current.size;
    const log = activityLogger(this.deps, { tenant: input.tenant, stream: input.stream });
    log[unchanged ? 'debug' : 'info'](
      { rows: sweep.rows, fresh: sweep.fresh, gone, pages: sweep.pages, known, chunks: sweep.chunksWritten, unchanged },
      'sweep complete',
    );
    return {
      state: this.resultState(unchanged),
      ...(unchanged ? { unchanged: true } : {}),
      rows: sweep.rows,
      fresh: sweep.fresh,
      gone: input.reship ? 0 : gone,
      known,
      pages: sweep.pages,
      previousRows: this.previous.size,
      withoutIdentity: sweep.withoutIdentity ?? 0,
      shipped: sweep.ship.shipped,
      batches: sweep.ship.batches,
      deadLetters: this.deadLetters,
      deadLettered: sweep.ship.deadLettered,
      trimmed: sweep.ship.trimmed,
      stale: { count: sweep.ship.stale, policy: this.stalePolicy },
    };
  }

  /** The committed state when nothing changed (without its inline rows), else this sweep's generation. */
  private resultState(unchanged: boolean): SweepSnapshotStateResult['state'] {
    const { input, sweep } = this;
    const committed = input.previous;
    if (unchanged && committed)
      return { generation: committed.generation, chunks: committed.chunks, rows: committed.rows };
    return {
      generation: input.generation,
      chunks: sweep.chunksWritten,
      rows: this.current.size,
      ...(sweep.inline !== undefined ? { inline: sweep.inline } : {}),
    };
  }
}
