/**
 * EDR behavioral detections (`GET /api/v1/behavioral-detections`, https://api-docs.kandji.io/): a process chain
 * judged malicious or suspicious by a rule. One record per detection, identified by its `id` (a UUID), with a
 * `threat_status` that may change (`detected` → `blocked`, …: Kandji does not document whether it does; this
 * simulator lets tests change it). `detection_date` carries a zone: `2025-03-08T17:35:30.462076+00:00`.
 *
 * Records can be added (`add`, `append`) and removed (`remove`) at any time, also between two pages of a client's
 * paging: offsets then shift, as they do on Kandji.
 *
 * Content is deterministic from the seed; only records made "now" (`add`) depend on the clock.
 */
import { seededRandom } from '../faults';
import { chance, fleetForSeed, hex, int, pick, uuid, type Fleet, type Rand } from './audit-records';
import { dateToMicros, formatNaiveMicros, nowMicros } from './time';

export type BehavioralClassification = 'malicious' | 'suspicious';
export const BEHAVIORAL_STATUSES = ['detected', 'informational', 'blocked'] as const;
export type BehavioralStatus = (typeof BEHAVIORAL_STATUSES)[number];

export interface ProcessInfo {
  name: string;
  command_line: string;
  image_path: string;
  pid: number;
  owner: string;
  sha256: string;
}

export interface BehavioralRecord {
  id: string;
  threat_id: string;
  rule_version: string;
  description: string;
  classification: BehavioralClassification;
  informational_tags: string[];
  malware_family: string[];
  /** With a zone, 6 digits: `2025-03-08T17:35:30.462076+00:00` */
  detection_date: string;
  threat_status: BehavioralStatus;
  device_info: { id: string; name: string; serial_number: string };
  parent_process: ProcessInfo;
  target_process: ProcessInfo;
  library_item: { id: string; name: string; mal_posture_mode: string };
  blueprint: { id: string; name: string };
}

/** Fields `sort_by` accepts (a `-` prefix sorts descending). */
export const BEHAVIORAL_SORT_FIELDS = [
  'threat_id',
  'classification',
  'device_name',
  'parent_process_name',
  'target_process_name',
  'detection_date',
  'status',
] as const;
export type BehavioralSortField = (typeof BEHAVIORAL_SORT_FIELDS)[number];

export interface BehavioralQuery {
  classification?: BehavioralClassification;
  status?: string;
  /** Detections on or after this (micros). */
  from?: bigint;
  /** Detections before this (micros, exclusive). */
  to?: bigint;
  sortBy?: BehavioralSortField | `-${BehavioralSortField}`;
  offset?: number;
  limit?: number;
}

export interface BehavioralQueryResult {
  total_count: number;
  malicious_count: number;
  suspicious_count: number;
  results: BehavioralRecord[];
}

const RULES: ReadonlyArray<{ threat_id: string; description: string; family: string[]; tags: string[] }> = [
  { threat_id: 'KTI_BD_0163', description: 'Suspicious launch agent persistence', family: [], tags: ['persistence'] },
  { threat_id: 'KTI_BD_0042', description: 'Credential dumping from keychain', family: ['AMOS'], tags: ['credential'] },
  { threat_id: 'KTI_BD_0077', description: 'Reverse shell spawned by curl', family: [], tags: ['execution'] },
  { threat_id: 'KTI_BD_0110', description: 'Gatekeeper bypass via xattr', family: ['Shlayer'], tags: ['evasion'] },
  { threat_id: 'KTI_BD_0201', description: 'Osascript prompting for password', family: ['Atomic'], tags: [] },
];
const PROCESSES = ['bash', 'zsh', 'curl', 'osascript', 'python3', 'launchctl', 'xattr', 'security'];

/** `+00:00` form of a UTC instant in micros. */
export function formatZonedMicros(micros: bigint): string {
  return `${formatNaiveMicros(micros)}+00:00`;
}

interface Entry {
  t: bigint;
  record: BehavioralRecord;
}

const cmp = (a: Entry, b: Entry) => (a.t !== b.t ? (a.t < b.t ? -1 : 1) : a.record.id < b.record.id ? -1 : 1);

export class BehavioralStore {
  private readonly r: Rand;
  private readonly fleet: Fleet;
  /** Sorted by (detection_date, id) ascending. */
  private entries: Entry[] = [];

  constructor(opts: { seed?: number } = {}) {
    const seed = opts.seed ?? 1;
    this.r = seededRandom((seed ^ 0xbe4a) >>> 0);
    this.fleet = fleetForSeed(seed);
  }

  get size(): number {
    return this.entries.length;
  }

  /** All records, oldest detection first. */
  all(): BehavioralRecord[] {
    return this.entries.map((e) => e.record);
  }

  get(id: string): BehavioralRecord | undefined {
    return this.entries.find((e) => e.record.id === id)?.record;
  }

  /** Generates `count` detections spread over [from, to], adds and returns them (oldest first). */
  seed(count: number, window: { from: Date; to: Date }): BehavioralRecord[] {
    const from = dateToMicros(window.from);
    const span = Number(dateToMicros(window.to) - from);
    const out: BehavioralRecord[] = [];
    for (let i = 0; i < count; i++) out.push(this.generate(from + BigInt(Math.floor(this.r() * span))));
    this.append(out);
    return out;
  }

  /** `n` detections at `at` (default now), a millisecond apart. */
  add(n: number, at?: Date): BehavioralRecord[] {
    const base = at ? dateToMicros(at) : nowMicros();
    const out: BehavioralRecord[] = [];
    for (let i = 0; i < n; i++) out.push(this.generate(base - BigInt((n - i) * 1000)));
    this.append(out);
    return out;
  }

  /** Adds records built elsewhere (tests). */
  append(records: readonly BehavioralRecord[]): void {
    for (const record of records) {
      const t = zonedToMicros(record.detection_date);
      if (t === undefined) throw new TypeError(`behavioral detection ${record.id} has an invalid detection_date`);
      this.entries.push({ t, record });
    }
    this.entries.sort(cmp);
  }

  /** Removes detections by id; returns how many were there. */
  remove(ids: readonly string[]): number {
    const gone = new Set(ids);
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => !gone.has(e.record.id));
    return before - this.entries.length;
  }

  /** Sets a detection's `threat_status` (the stored record is replaced by a new object); returns it. */
  changeStatus(id: string, status: BehavioralStatus): BehavioralRecord {
    const entry = this.entries.find((e) => e.record.id === id);
    if (!entry) throw new Error(`no behavioral detection ${id}`);
    entry.record = { ...entry.record, threat_status: status };
    return entry.record;
  }

  query(q: BehavioralQuery = {}): BehavioralQueryResult {
    const base = this.entries.filter(
      (e) =>
        (q.from === undefined || e.t >= q.from) &&
        (q.to === undefined || e.t < q.to) &&
        (q.status === undefined || e.record.threat_status === q.status),
    );
    const malicious = base.filter((e) => e.record.classification === 'malicious').length;
    const matched = q.classification ? base.filter((e) => e.record.classification === q.classification) : base;
    const sortBy = q.sortBy ?? '-detection_date';
    const desc = sortBy.startsWith('-');
    const field = (desc ? sortBy.slice(1) : sortBy) as BehavioralSortField;
    const key = (e: Entry): string =>
      field === 'device_name'
        ? e.record.device_info.name
        : field === 'parent_process_name'
          ? e.record.parent_process.name
          : field === 'target_process_name'
            ? e.record.target_process.name
            : field === 'status'
              ? e.record.threat_status
              : field === 'detection_date'
                ? ''
                : e.record[field];
    const sorted = matched.slice().sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const c = x < y ? -1 : x > y ? 1 : cmp(a, b);
      return desc ? -c : c;
    });
    const offset = q.offset ?? 0;
    return {
      total_count: matched.length,
      malicious_count: malicious,
      suspicious_count: base.length - malicious,
      results: sorted.slice(offset, offset + (q.limit ?? sorted.length)).map((e) => e.record),
    };
  }

  private process(name: string, owner: string): ProcessInfo {
    const path = name === 'python3' ? '/usr/bin/python3' : `/bin/${name}`;
    return {
      name,
      command_line: `${path} -c ${hex(this.r, 8)}`,
      image_path: path,
      pid: int(this.r, 100, 99_999),
      owner,
      sha256: hex(this.r, 64),
    };
  }

  private generate(t: bigint): BehavioralRecord {
    const r = this.r;
    const rule = pick(r, RULES);
    const device = pick(r, this.fleet.devices);
    const blueprint = pick(r, this.fleet.blueprints);
    const malicious = rule.family.length > 0 || chance(r, 0.3);
    const owner = chance(r, 0.3) ? 'root' : device.user.name;
    return {
      id: uuid(r),
      threat_id: rule.threat_id,
      rule_version: `${int(r, 1, 4)}.${int(r, 0, 9)}`,
      description: rule.description,
      classification: malicious ? 'malicious' : 'suspicious',
      informational_tags: rule.tags,
      malware_family: rule.family,
      detection_date: formatZonedMicros(t),
      threat_status: malicious ? pick(r, ['detected', 'blocked'] as const) : 'informational',
      device_info: { id: device.id, name: device.name, serial_number: device.serial },
      parent_process: this.process(pick(r, PROCESSES), owner),
      target_process: this.process(pick(r, PROCESSES), owner),
      library_item: {
        id: this.fleet.edrLibraryItemId,
        name: 'Avert',
        mal_posture_mode: pick(r, ['protect', 'detect']),
      },
      blueprint: { id: blueprint.id, name: blueprint.name },
    };
  }
}

/** Microseconds of `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (UTC only), or undefined. */
export function zonedToMicros(s: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\+00:00$/.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0'));
}
