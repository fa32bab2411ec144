/**
 * EDR threat details (`GET /api/v1/threat-details`, https://api-docs.kandji.io/): one record per file
 * detection on a device, with a mutable status (QUARANTINED, NOT_QUARANTINED, RELEASED).
 * Timestamps are naive (`2023-04-21T17:23:13.883134`, UTC in this simulator) and unset dates
 * are "". Some records belong to devices that left the tenant: `device_name` "" and
 * `device_serial_number`, `blueprint_*`, `library_item_*` and `*_posture` null.
 *
 * Identity (`threatIdentity`): `device_id|file_hash|detection_date`. The same file can be
 * detected again on the same device later (e.g. downloaded again after a release), so
 * device_id + file_hash alone is not unique; the detection date separates those records and
 * never changes when the status does.
 *
 * Content is deterministic from the seed; only records made "now" (`add`, `changeStatus`)
 * depend on the clock.
 */
import { seededRandom } from '../faults';
import {
  chance,
  fleetForSeed,
  hex,
  int,
  pick,
  MALWARE_FILES,
  THREATS,
  type Device,
  type Fleet,
  type Rand,
} from './audit-records';
import { dateToMicros, formatNaiveMicros, nowMicros } from './time';

export type ThreatClassification = 'MALWARE' | 'PUP';
export type ThreatStatus = 'QUARANTINED' | 'NOT_QUARANTINED' | 'RELEASED';
export const THREAT_STATUSES: readonly ThreatStatus[] = ['QUARANTINED', 'NOT_QUARANTINED', 'RELEASED'];

export interface ThreatRecord {
  threat_name: string;
  classification: ThreatClassification;
  status: ThreatStatus;
  process_name: string;
  process_owner: string;
  device_name: string;
  device_id: string;
  /** Naive, 6 digits: `2023-04-21T17:23:13.883134` */
  detection_date: string;
  /** Naive, or "" when never quarantined. */
  date_of_quarantine: string;
  /** Naive, or "" unless released. */
  date_of_release: string;
  released_by: string;
  release_note: string;
  file_path: string;
  /** sha256, 64 lower-case hex digits. */
  file_hash: string;
  /** The enclosing .app bundle, or "". */
  bundle_path: string;
  device_serial_number: string | null;
  blueprint_id: string | null;
  blueprint_name: string | null;
  library_item_name: string | null;
  library_item_id: string | null;
  pup_posture: string | null;
  malware_posture: string | null;
}

/** `device_id|file_hash|detection_date`: unique per record and stable across status changes. */
export function threatIdentity(t: { device_id: string; file_hash: string; detection_date: string }): string {
  return `${t.device_id}|${t.file_hash}|${t.detection_date}`;
}

/** Fields `sort_by` accepts (a `-` prefix sorts descending). */
export const THREAT_SORT_FIELDS = [
  'threat_name',
  'classification',
  'device_name',
  'process_name',
  'process_owner',
  'detection_date',
  'status',
] as const;
export type ThreatSortField = (typeof THREAT_SORT_FIELDS)[number];
export type ThreatSortBy = ThreatSortField | `-${ThreatSortField}`;
/** Default order when `sort_by` is absent: newest detection first, as the web UI lists them. */
export const DEFAULT_THREAT_SORT: ThreatSortBy = '-detection_date';

export interface ThreatQuery {
  classification?: ThreatClassification;
  status?: ThreatStatus;
  /** Only detections in the last N days (relative to `now`). */
  dateRangeDays?: number;
  deviceId?: string;
  /** Case-insensitive substring of device_name, file_hash or file_path. */
  term?: string;
  sortBy?: ThreatSortBy;
  offset?: number;
  limit?: number;
  /** "Now" for date_range, microseconds. Default: the clock. */
  now?: bigint;
}

export interface ThreatQueryResult {
  /** Records matching every filter. */
  count: number;
  /** Records matching every filter except `classification` (the UI's tab counters). */
  malware_count: number;
  pup_count: number;
  results: ThreatRecord[];
}

/** Key for changeStatus: an identity string, `device_id|file_hash`, or the fields. */
export type ThreatKey = string | { device_id: string; file_hash: string; detection_date?: string };

export interface StatusChangeOptions {
  /** When the change happens. Default now. */
  at?: Date;
  /** For RELEASED: the admin (email). Default: one of the tenant's admins. */
  releasedBy?: string;
  /** For RELEASED. Default: a short note. */
  releaseNote?: string;
}

interface Entry {
  key: string;
  /** detection_date, microseconds. */
  t: bigint;
  record: ThreatRecord;
}

const PROCESS_NAMES = [
  'chmod',
  'bash',
  'zsh',
  'curl',
  'Finder',
  'Safari',
  'Google Chrome',
  'installer',
  'mv',
  'osascript',
  'unzip',
];
const RELEASE_NOTES = [
  'False positive: internal build tool.',
  'Approved by security team after review.',
  'Needed for a customer demo; re-scan scheduled.',
  'Vendor confirmed the binary is legitimate.',
];

function cmpEntry(a: Entry, b: Entry): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export class ThreatStore {
  private readonly r: Rand;
  private readonly fleet: Fleet;
  /** Sorted by (detection_date, identity) ascending. */
  private entries: Entry[] = [];
  private readonly byKey = new Map<string, Entry>();
  /** A few hashes per threat family, so one file shows up on several devices. */
  private readonly hashes = new Map<string, string[]>();
  private readonly posture = new Map<string, { malware: string; pup: string }>();

  constructor(opts: { seed?: number } = {}) {
    const seed = opts.seed ?? 1;
    this.r = seededRandom((seed ^ 0x7e7ea7) >>> 0);
    this.fleet = fleetForSeed(seed);
    for (const bp of this.fleet.blueprints) {
      this.posture.set(bp.id, {
        malware: chance(this.r, 0.8) ? 'protect' : 'detect',
        pup: pick(this.r, ['protect', 'detect', 'detect']),
      });
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** All records, oldest detection first (ties by identity). */
  all(): ThreatRecord[] {
    return this.entries.map((e) => e.record);
  }

  get(identity: string): ThreatRecord | undefined {
    return this.byKey.get(identity)?.record;
  }

  /** Generates `count` detections spread over [from, to], adds and returns them (oldest first). */
  seedThreats(count: number, window: { from: Date; to: Date }): ThreatRecord[] {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('threat count must be a non-negative integer');
    const from = dateToMicros(window.from);
    const to = dateToMicros(window.to);
    if (to < from) throw new RangeError('threats `to` is before `from`');
    const span = Number(to - from);
    const times: bigint[] = [];
    for (let i = 0; i < count; i++) times.push(from + BigInt(Math.floor(this.r() * span)));
    times.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (let i = 1; i < times.length; i++)
      if ((times[i] as bigint) <= (times[i - 1] as bigint)) times[i] = (times[i - 1] as bigint) + 1n;
    const out = times.map((t) => this.generate(t, to));
    this.insert(out);
    return out;
  }

  /** `n` new detections happening now (each a few ms apart). Returns them. */
  add(n: number): ThreatRecord[] {
    const now = nowMicros();
    const out: ThreatRecord[] = [];
    for (let i = 0; i < n; i++) {
      const t = now - BigInt((n - i) * 1000 + int(this.r, 0, 999));
      out.push(this.generate(t, now, true));
    }
    this.insert(out);
    return out;
  }

  /** Adds records built elsewhere (e.g. tests). Throws on an identity already present. */
  append(records: readonly ThreatRecord[]): void {
    this.insert(records);
  }

  /**
   * Sets the status of one record and the fields that go with it: RELEASED sets
   * date_of_release, released_by and release_note; QUARANTINED sets date_of_quarantine (if
   * unset) and clears the release fields; NOT_QUARANTINED clears the release fields. A key of
   * `device_id|file_hash` (or the fields without detection_date) picks the newest detection of
   * that file on that device. The stored record is replaced by a new object; returns it.
   */
  changeStatus(key: ThreatKey, status: ThreatStatus, opts: StatusChangeOptions = {}): ThreatRecord {
    if (!THREAT_STATUSES.includes(status)) throw new RangeError(`unknown threat status ${String(status)}`);
    const entry = this.find(key);
    if (!entry) throw new Error(`no threat matches ${typeof key === 'string' ? key : JSON.stringify(key)}`);
    const at = formatNaiveMicros(opts.at ? dateToMicros(opts.at) : nowMicros());
    const rec: ThreatRecord = { ...entry.record, status };
    if (status === 'RELEASED') {
      rec.date_of_release = at;
      rec.released_by = opts.releasedBy ?? pick(this.r, this.fleet.admins).email;
      rec.release_note = opts.releaseNote ?? pick(this.r, RELEASE_NOTES);
    } else {
      rec.date_of_release = '';
      rec.released_by = '';
      rec.release_note = '';
      if (status === 'QUARANTINED' && rec.date_of_quarantine === '') rec.date_of_quarantine = at;
    }
    entry.record = rec;
    return rec;
  }

  /** Filters, counts, sorts and slices (see ThreatQuery). */
  query(q: ThreatQuery = {}): ThreatQueryResult {
    const now = q.now ?? nowMicros();
    const since =
      q.dateRangeDays !== undefined ? now - BigInt(Math.round(q.dateRangeDays * 86_400_000)) * 1000n : undefined;
    const term = q.term?.toLowerCase();
    const base = this.entries.filter((e) => {
      const r = e.record;
      if (since !== undefined && e.t < since) return false;
      if (q.status && r.status !== q.status) return false;
      if (q.deviceId !== undefined && r.device_id !== q.deviceId) return false;
      if (
        term !== undefined &&
        !r.device_name.toLowerCase().includes(term) &&
        !r.file_hash.toLowerCase().includes(term) &&
        !r.file_path.toLowerCase().includes(term)
      ) {
        return false;
      }
      return true;
    });
    let malware_count = 0;
    let pup_count = 0;
    for (const e of base) {
      if (e.record.classification === 'MALWARE') malware_count++;
      else pup_count++;
    }
    const matched = q.classification ? base.filter((e) => e.record.classification === q.classification) : base;
    const sortBy = q.sortBy ?? DEFAULT_THREAT_SORT;
    const desc = sortBy.startsWith('-');
    const field = (desc ? sortBy.slice(1) : sortBy) as ThreatSortField;
    let sorted: Entry[];
    if (field === 'detection_date') {
      sorted = desc ? matched.slice().reverse() : matched;
    } else {
      // Ties keep detection_date order (newest first when descending), then identity.
      sorted = matched.slice().sort((a, b) => {
        const x = a.record[field];
        const y = b.record[field];
        const c = x < y ? -1 : x > y ? 1 : cmpEntry(a, b);
        return desc ? -c : c;
      });
    }
    const offset = q.offset ?? 0;
    const limit = q.limit ?? sorted.length;
    return {
      count: matched.length,
      malware_count,
      pup_count,
      results: sorted.slice(offset, offset + limit).map((e) => e.record),
    };
  }

  // -------------------------------------------------------------------------------------------

  private find(key: ThreatKey): Entry | undefined {
    let deviceId: string;
    let fileHash: string;
    if (typeof key === 'string') {
      const exact = this.byKey.get(key);
      if (exact) return exact;
      const parts = key.split('|');
      if (parts.length !== 2) return undefined;
      [deviceId, fileHash] = parts as [string, string];
    } else {
      if (key.detection_date !== undefined) return this.byKey.get(threatIdentity(key as Required<typeof key>));
      deviceId = key.device_id;
      fileHash = key.file_hash;
    }
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i] as Entry;
      if (e.record.device_id === deviceId && e.record.file_hash === fileHash) return e;
    }
    return undefined;
  }

  private insert(records: readonly ThreatRecord[]): void {
    const fresh: Entry[] = [];
    const seen = new Set<string>();
    for (const record of records) {
      const key = threatIdentity(record);
      if (this.byKey.has(key) || seen.has(key)) throw new Error(`duplicate threat ${key}`);
      const t = naiveToMicros(record.detection_date);
      if (t === undefined) throw new TypeError(`threat ${key} has an invalid detection_date`);
      seen.add(key);
      fresh.push({ key, t, record });
    }
    for (const e of fresh) this.byKey.set(e.key, e);
    fresh.sort(cmpEntry);
    const last = this.entries[this.entries.length - 1];
    const first = fresh[0];
    if (!first) return;
    if (!last || cmpEntry(last, first) < 0) for (const e of fresh) this.entries.push(e);
    else this.entries = this.entries.concat(fresh).sort(cmpEntry);
  }

  private hashFor(family: string): string {
    let list = this.hashes.get(family);
    if (!list) {
      list = [];
      this.hashes.set(family, list);
    }
    if (list.length < 4 || chance(this.r, 0.3)) {
      const h = hex(this.r, 64);
      list.push(h);
      return h;
    }
    return pick(this.r, list);
  }

  /** One detection at `t` (micros); `latest` bounds the quarantine and release times. */
  private generate(t: bigint, latest: bigint, fresh = false): ThreatRecord {
    const r = this.r;
    const device: Device = pick(r, this.fleet.devices);
    const threat = pick(r, THREATS);
    const file = pick(r, MALWARE_FILES);
    const dir = file.dir.replace('{user}', device.user.name);
    const filePath = `${dir}/${file.name}`;
    const appIdx = filePath.indexOf('.app/');
    const classification: ThreatClassification = threat.classification === 'PUP' ? 'PUP' : 'MALWARE';
    const orphan = chance(r, 0.08);
    const blueprint = this.fleet.blueprints[hashString(device.id) % this.fleet.blueprints.length] ?? null;
    const posture = blueprint ? this.posture.get(blueprint.id) : undefined;
    const mode = classification === 'MALWARE' ? posture?.malware : posture?.pup;
    let status: ThreatStatus =
      mode === 'detect' ? 'NOT_QUARANTINED' : chance(r, 0.95) ? 'QUARANTINED' : 'NOT_QUARANTINED';
    let quarantinedAt: bigint | undefined;
    let releasedAt: bigint | undefined;
    if (status === 'QUARANTINED') {
      quarantinedAt = t + BigInt(int(r, 200_000, 3_000_000));
      if (!fresh && chance(r, 0.1) && latest > quarantinedAt) {
        status = 'RELEASED';
        releasedAt =
          quarantinedAt + BigInt(Math.floor(r() * Math.min(Number(latest - quarantinedAt), 3 * 86_400_000_000)));
      }
    }
    const released = releasedAt !== undefined;
    return {
      threat_name: threat.family,
      classification,
      status,
      process_name: pick(r, PROCESS_NAMES),
      process_owner: chance(r, 0.3) ? 'root' : device.user.name,
      device_name: orphan ? '' : device.name,
      device_id: device.id,
      detection_date: formatNaiveMicros(t),
      date_of_quarantine: quarantinedAt !== undefined ? formatNaiveMicros(quarantinedAt) : '',
      date_of_release: released ? formatNaiveMicros(releasedAt as bigint) : '',
      released_by: released ? pick(r, this.fleet.admins).email : '',
      release_note: released ? pick(r, RELEASE_NOTES) : '',
      file_path: filePath,
      file_hash: this.hashFor(threat.family),
      bundle_path: appIdx >= 0 ? filePath.slice(0, appIdx + 4) : '',
      device_serial_number: orphan ? null : device.serial,
      blueprint_id: orphan || !blueprint ? null : blueprint.id,
      blueprint_name: orphan || !blueprint ? null : blueprint.name,
      library_item_name: orphan ? null : 'Avert',
      library_item_id: orphan ? null : this.fleet.edrLibraryItemId,
      pup_posture: orphan ? null : (posture?.pup ?? null),
      malware_posture: orphan ? null : (posture?.malware ?? null),
    };
  }
}

/** Microseconds of a naive (UTC) `YYYY-MM-DDTHH:MM:SS.ffffff`, or undefined. */
export function naiveToMicros(s: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0'));
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
