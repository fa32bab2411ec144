/**
 * Ships log items to the intake without losing, repeating or mangling any: batches within Datadog's limits,
 * a 413 halves the batch, and a 400 is bisected down to the item(s) Datadog refuses. Other failures (auth, rate
 * limits, outages) propagate for the caller to retry.
 *
 * A refused item becomes a dead letter only when Datadog accepted other items of the same top-level batch after
 * refusing it, and then refused it alone once more: that proves the endpoint works and the item itself is what it
 * refuses (a Datadog refusing everything for a while, recovering or breaking mid-bisection, dead-letters nothing).
 * When nothing of a batch is accepted, or the
 * page has more than MAX_DEAD_LETTERS_PER_PAGE refused items, the refusal is systemic (a wrong DD_LOGS_URL, a proxy
 * answering 400 to everything) and shipping stops with a DatadogRefusedAll carrying Datadog's answer. 404, 405,
 * 407 and 415 are answers of the endpoint or a proxy, never of one record: they stop shipping at once.
 *
 * Progress is reported after every request and is resumable by identity: everything up to `doneIdentity` is
 * settled (accepted, dead-lettered, or refused and waiting for proof), and `open` describes the top-level batch being
 * bisected, so a resumed attempt never re-sends what Datadog accepted. Bisection costs at most two requests per
 * level, log2(batch size) levels per refused item.
 *
 * Progress is valid only for the list it was made on: it carries a digest of that list's identities and one of its
 * settled items. A resumed attempt whose list is another one (a page read again from Kandji: an event turned up
 * before the resume point, or one is gone) resumes by position only if its items through `doneIdentity` are the
 * same ones in the same order; otherwise nothing is provably shipped and the list is shipped again from its start:
 * a duplicate at worst, never a loss.
 */
import { createHash } from 'node:crypto';
import { RemoteError } from '../remote-errors';
import { splitIntoBatches } from './batches';

export interface DeadLetter {
  /** The record's identity (audit: its id; detections: device_id|bundle_id|cve_id). */
  identity: string;
  status?: number;
  reason: string;
}

export interface ShipProgress {
  /**
   * Identity of the last item settled: a resumed attempt starts after it, wherever it now stands in the list
   * (which may differ from the first attempt's, e.g. after stale filtering by a later clock).
   */
  doneIdentity?: string;
  accepted: number;
  requests: number;
  /** The first MAX_DEAD_LETTERS_KEPT dead letters (all are logged); `deadLettered` counts them all. */
  deadLetters: DeadLetter[];
  deadLettered?: number;
  /**
   * The top-level batch being bisected, when an attempt stopped inside one: where it ends, how many of its items
   * Datadog accepted, and its refused items still waiting for that proof.
   */
  open?: OpenBatch;
  /** identityDigest of the list this progress was made on. */
  list?: string;
  /** identityDigest of that list's items through `doneIdentity` (absent: none settled). */
  done?: string;
}

export interface OpenBatch {
  /** Identity of the item before the batch (none: it starts the list). */
  before?: string;
  lastIdentity: string;
  accepted: number;
  unproven: DeadLetter[];
}

/** Dead letters kept in progress and results: heartbeats and history stay small however many there are. */
export const MAX_DEAD_LETTERS_KEPT = 20;

/** More refused items than this in one call (one page) is systemic: shipping stops rather than dead-letter them. */
export const MAX_DEAD_LETTERS_PER_PAGE = 50;

/** Answers of an endpoint or a proxy, never of one record: never bisected. */
export const ENDPOINT_ERROR_STATUSES: readonly number[] = [404, 405, 407, 415];

/** Datadog (or whatever answers at DD_LOGS_URL) refuses everything: no record of a batch was accepted. */
export class DatadogRefusedAll extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly bodySnippet: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DatadogRefusedAll';
  }
}

/** A short digest (16 characters) of the first `end` identities, in order: what a list's progress is valid for. */
export function identityDigest(identities: readonly string[], end = identities.length): string {
  const hash = createHash('sha256');
  for (let i = 0; i < end; i++) hash.update(identities[i]!).update('\n');
  return hash.digest('base64url').slice(0, 16);
}

/** identityDigest of the first n identities, fed once as n grows (items settle left to right). */
function prefixDigests(identities: readonly string[]): (n: number) => string {
  const hash = createHash('sha256');
  let fed = 0;
  return (n) => {
    if (n < fed) return identityDigest(identities, n);
    for (; fed < n; fed++) hash.update(identities[fed]!).update('\n');
    return hash.copy().digest('base64url').slice(0, 16);
  };
}

/**
 * Where an attempt resumes in `identities`: after `doneIdentity`, when the progress was made on this list or on one
 * whose items through `doneIdentity` are these; undefined when it was made on another list (or by a version that
 * kept no digest), so that nothing of this one is provably shipped.
 */
function resumePoint(progress: ShipProgress, list: string, prefix: (n: number) => string, ids: readonly string[]) {
  if (progress.doneIdentity === undefined) return 0;
  const at = ids.lastIndexOf(progress.doneIdentity) + 1;
  if (at > 0 && (progress.list === list || (progress.done !== undefined && progress.done === prefix(at)))) return at;
  return undefined;
}

export function emptyProgress(): ShipProgress {
  return { accepted: 0, requests: 0, deadLetters: [], deadLettered: 0 };
}

/** How shipItems ships one list of items: the request that sends a body, size limits, and its callbacks. */
export interface ShipItemsOptions {
  send: (body: string) => Promise<void>;
  /** Called after every request that settled items, with the progress to resume from (to heartbeat it). */
  onProgress?: (progress: ShipProgress) => void;
  limits?: { maxItems?: number; maxBytes?: number };
  /** The items already serialised (same order), to serialise nothing twice. */
  serialised?: readonly string[];
  /** Called for each dead letter (to log it) once it is one. */
  onDeadLetter?: (dead: DeadLetter) => void;
  /** Refused items allowed per call before it counts as systemic. Default MAX_DEAD_LETTERS_PER_PAGE. */
  maxDeadLetters?: number;
  /** Called when the progress to resume from was made on another list: this one is shipped from its start. */
  onListChanged?: (settledBefore: number) => void;
}

/** A 400 (or a 413 of a batch) may be one record's fault: bisect it. Any other 4xx is the endpoint's. */
function splittable(err: unknown): err is RemoteError {
  if (!(err instanceof RemoteError) || !(err.kind === 'rejected' || err.kind === 'too_large')) return false;
  return !ENDPOINT_ERROR_STATUSES.includes(err.details.status ?? 0);
}

function answerOf(err: RemoteError): string {
  return err.details.status !== undefined
    ? `${err.details.status}: ${err.details.bodySnippet ?? ''}`.trim()
    : err.message;
}

/**
 * Ships `items` (identities alongside), resuming from `progress` (e.g. a heartbeat of an earlier attempt).
 * Resolves with the final progress once every item is accepted or dead-lettered; rejects with DatadogRefusedAll
 * when the refusals are systemic (then `progress` holds what was settled, to resume from).
 */
export function shipItems(
  items: readonly Record<string, unknown>[],
  identities: readonly string[],
  opts: ShipItemsOptions,
  progress: ShipProgress = emptyProgress(),
): Promise<ShipProgress> {
  return new ListShipment(items, identities, opts, progress).run();
}

/** One call of shipItems: one list, its progress, and the steps that settle its items left to right. */
class ListShipment {
  private readonly list: string;
  private readonly prefix: (n: number) => string;
  private readonly maxDead: number;

  constructor(
    private readonly items: readonly Record<string, unknown>[],
    private readonly identities: readonly string[],
    private readonly opts: ShipItemsOptions,
    private readonly progress: ShipProgress,
  ) {
    this.list = identityDigest(identities);
    this.prefix = prefixDigests(identities);
    this.maxDead = opts.maxDeadLetters ?? MAX_DEAD_LETTERS_PER_PAGE;
    progress.deadLettered ??= progress.deadLetters.length;
  }

  async run(): Promise<ShipProgress> {
    let first = this.resume();
    // An earlier attempt stopped inside a batch: finish that batch first, with what it already knew.
    const open = this.progress.open;
    if (open) {
      const end = Math.max(first, this.identities.lastIndexOf(open.lastIdentity) + 1);
      await this.shipBatch(open, first, end);
      first = end;
    }
    const json = this.opts.serialised;
    const rest = first > 0 ? this.items.slice(first) : this.items;
    for (const batch of splitIntoBatches(rest, this.opts.limits, first > 0 ? json?.slice(first) : json)) {
      const start = first + batch.start;
      const end = start + batch.count;
      const before = start > 0 ? this.idOf(start - 1) : undefined;
      await this.shipBatch(
        { before, lastIdentity: this.idOf(end - 1), accepted: 0, unproven: [] },
        start,
        end,
        batch.body,
      );
    }
    return this.progress;
  }

  /** Where to start: after the last item an earlier attempt settled, if its progress holds for this list; else 0. */
  private resume(): number {
    const { progress } = this;
    let first = resumePoint(progress, this.list, this.prefix, this.identities);
    if (first === undefined) {
      this.opts.onListChanged?.(progress.accepted);
      first = 0;
      progress.doneIdentity = undefined;
      progress.open = undefined; // its refused items are sent again with the rest
    }
    progress.list = this.list;
    progress.done = first > 0 ? this.prefix(first) : undefined;
    return first;
  }

  private idOf(i: number): string {
    return this.identities[i] ?? `#${i}`;
  }

  private bodyOf(start: number, end: number): string {
    const json = this.opts.serialised;
    return json ? `[${json.slice(start, end).join(',')}]` : JSON.stringify(this.items.slice(start, end));
  }

  private deadLetter(dead: DeadLetter): void {
    this.opts.onDeadLetter?.(dead);
    this.progress.deadLettered = (this.progress.deadLettered ?? 0) + 1;
    if (this.progress.deadLetters.length < MAX_DEAD_LETTERS_KEPT) this.progress.deadLetters.push(dead);
  }

  /** Items through `last` are settled: progress to resume from, reported. */
  private settled(last: number): void {
    this.progress.doneIdentity = this.idOf(last);
    this.progress.done = this.prefix(last + 1);
    this.opts.onProgress?.(this.progress);
  }

  /**
   * Stops shipping. A batch with nothing accepted is given back whole (its refused items will be sent again: none
   * was taken), so a resumed attempt starts at its first item. The refusal at hand, when there is one, is the cause:
   * what Datadog answered, kept whole.
   */
  private refusedAll(
    open: OpenBatch,
    message: string,
    answer: { status?: number; body?: string; cause?: RemoteError },
  ): never {
    const { progress } = this;
    if (open.accepted === 0) {
      progress.doneIdentity = open.before;
      progress.done = open.before === undefined ? undefined : this.prefix(this.identities.lastIndexOf(open.before) + 1);
      progress.open = undefined;
    }
    throw new DatadogRefusedAll(message, answer.status, answer.body, answer.cause && { cause: answer.cause });
  }

  /**
   * Judges the items refused alone, once Datadog accepted a request sent after their refusal: each is sent alone
   * again, and only one refused again, right after that acceptance, is a dead letter. A refusal alone proves
   * nothing by itself: a proxy or an intake answering 400 to everything for a while refuses every record, and the
   * items refused just before it recovered (or just after it broke, when an earlier part of the batch went through)
   * would otherwise be dropped as bad. Costs one request per refused item.
   */
  private async judgeUnproven(open: OpenBatch): Promise<void> {
    while (open.unproven.length > 0) {
      const dead = open.unproven[0]!;
      const at = this.identities.lastIndexOf(dead.identity);
      // Always in the list (progress holds only for the list it was made on); if not, nothing of it can be sent.
      if (at >= 0) await this.sendAloneAgain(open, dead, at);
      open.unproven.shift();
      this.opts.onProgress?.(this.progress);
    }
  }

  private async sendAloneAgain(open: OpenBatch, dead: DeadLetter, at: number): Promise<void> {
    try {
      await this.opts.send(this.bodyOf(at, at + 1));
      this.progress.requests += 1;
      this.progress.accepted += 1;
      open.accepted += 1;
    } catch (err) {
      if (!splittable(err)) throw err; // Datadog failing otherwise: judged by the next attempt
      this.progress.requests += 1;
      this.deadLetter({ ...dead, status: err.details.status, reason: err.message });
    }
  }

  /** Ships [start, end) of the open top-level batch, bisecting refusals; items settle left to right. */
  private async shipRange(open: OpenBatch, start: number, end: number, body?: string): Promise<void> {
    try {
      await this.opts.send(body ?? this.bodyOf(start, end));
      this.progress.requests += 1;
      this.progress.accepted += end - start;
      open.accepted += end - start;
      // Proof the endpoint works now: the items refused alone so far are judged (judgeUnproven).
      await this.judgeUnproven(open);
      this.settled(end - 1);
    } catch (err) {
      await this.refused(open, start, end, err);
    }
  }

  /**
   * [start, end) was refused (or an item judged alone after its acceptance was): bisected while it holds more than
   * one item; one item alone waits for proof. An answer about the endpoint stops shipping.
   */
  private async refused(open: OpenBatch, start: number, end: number, err: unknown): Promise<void> {
    if (!splittable(err)) {
      if (err instanceof RemoteError && err.kind === 'rejected')
        this.refusedAll(
          open,
          `Datadog's intake (or a proxy before it) answered ${answerOf(err)} — an answer about the endpoint, not a record: check DD_LOGS_URL / DD_SITE and any proxy; nothing was dead-lettered`,
          { status: err.details.status, body: err.details.bodySnippet, cause: err },
        );
      throw err;
    }
    if (end - start > 1) {
      const mid = start + Math.ceil((end - start) / 2);
      await this.shipRange(open, start, mid);
      await this.shipRange(open, mid, end);
      return;
    }
    if ((this.progress.deadLettered ?? 0) + open.unproven.length >= this.maxDead)
      this.refusedAll(
        open,
        `Datadog refused more than ${this.maxDead} records of one page, each alone (last answer ${answerOf(err)}): that is systemic, not bad records; nothing more is dead-lettered and shipping resumes here`,
        { status: err.details.status, body: err.details.bodySnippet, cause: err },
      );
    // Never dead-lettered on this refusal alone: Datadog may be refusing everything for a while (judgeUnproven).
    open.unproven.push({ identity: this.idOf(start), status: err.details.status, reason: err.message });
    this.settled(start);
  }

  /** Ships one top-level batch [start, end); throws DatadogRefusedAll when nothing of it was accepted. */
  private async shipBatch(open: OpenBatch, start: number, end: number, body?: string): Promise<void> {
    this.progress.open = open;
    if (start < end) await this.shipRange(open, start, end, body);
    // Refused after the batch's last acceptance: sent alone once more, now (a record Datadog refuses for itself is
    // refused again; a refusal of the moment may be over).
    if (open.accepted > 0) await this.judgeUnproven(open);
    if (open.accepted === 0 && open.unproven.length > 0) {
      const last = open.unproven.at(-1)!;
      this.refusedAll(
        open,
        `Datadog refused every record of a batch of ${open.unproven.length}, each alone (${last.reason}); with nothing accepted that says nothing about the records, so none is dead-lettered: shipping waits until Datadog takes them`,
        { status: last.status },
      );
    }
    this.progress.open = undefined;
    this.opts.onProgress?.(this.progress);
  }
}
