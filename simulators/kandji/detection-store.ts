/**
 * Vulnerability-management detections (`GET /api/v1/vulnerability-management/detections`,
 * https://api-docs.kandji.io/): a current-state list with one row per (device, application, CVE),
 * no id and no status. A row exists while the vulnerable software is present; rows come and go.
 *
 * Identity is `device_id|bundle_id|cve_id` (`detectionIdentity`; a null bundle_id counts as
 * ""), as Datadog builds its finding uid. Rows are kept unique by identity and ordered by it;
 * the HTTP layer pages with an opaque `after` cursor holding the last identity served, so a
 * sweep sees every row that existed for the whole sweep exactly once, whatever is added or
 * removed between page requests (rows added or removed mid-sweep may or may not be seen).
 *
 * Content is deterministic from the seed; only the timestamps of rows made "now" (churn)
 * depend on the clock.
 */
import { seededRandom } from '../faults';
import { chance, fleetForSeed, int, pick, serial, uuid, type Fleet, type Rand } from './audit-records';
import { dateToMicros, formatMicros, formatNaiveMicros, nowMicros } from './time';

/**
 * Which field-name set rows use: the one real tenants answer with, the older one of the example in Kandji's Postman
 * API documentation, or both (per row). The two name the same values differently.
 */
export type DetectionFieldSet = 'current' | 'legacy' | 'mixed';

interface DetectionRowBase {
  device_id: string;
  device_name: string;
  device_serial_number: string;
  device_model: string;
  device_os_version: string;
  blueprint_id: string;
  blueprint_name: string;
  name: string;
  version: string;
  path: string;
  bundle_id: string | null;
  cve_id: string;
  cve_link: string;
  cvss_score: number;
}

/** The field set real tenants answer with. */
export interface CurrentDetectionRow extends DetectionRowBase {
  description: string;
  severity: string;
  /** `2025-09-24T18:57:34.914031Z` */
  detection_datetime: string;
  /** Naive: `2025-09-24T17:15:39.940000` */
  cve_published_at: string;
  cve_modified_at: string;
}

/** The older field set of the example in Kandji's Postman API documentation. */
export interface LegacyDetectionRow extends DetectionRowBase {
  cve_description: string;
  cvss_severity: string;
  /** Naive, space separator: `2023-10-13 16:15:00.000000` */
  first_detection_date: string;
  latest_detection_date: string;
}

export type DetectionRow = CurrentDetectionRow | LegacyDetectionRow;

/** Every key a row can carry (either field set); `filter` accepts these. */
export const DETECTION_FIELDS: readonly string[] = [
  'device_id',
  'device_name',
  'device_serial_number',
  'device_model',
  'device_os_version',
  'blueprint_id',
  'blueprint_name',
  'name',
  'version',
  'path',
  'bundle_id',
  'cve_id',
  'description',
  'cve_description',
  'cve_link',
  'cvss_score',
  'severity',
  'cvss_severity',
  'detection_datetime',
  'cve_published_at',
  'cve_modified_at',
  'first_detection_date',
  'latest_detection_date',
];

/** A filter on a name of one set also matches the same value under the other set's name. */
const FIELD_ALIASES: Readonly<Record<string, string>> = {
  description: 'cve_description',
  cve_description: 'description',
  severity: 'cvss_severity',
  cvss_severity: 'severity',
};

/** `device_id|bundle_id|cve_id`, a null bundle_id as "". */
export function detectionIdentity(row: { device_id: string; bundle_id: string | null; cve_id: string }): string {
  return `${row.device_id}|${row.bundle_id ?? ''}|${row.cve_id}`;
}

export function isLegacyDetectionRow(row: DetectionRow): row is LegacyDetectionRow {
  return 'first_detection_date' in row;
}

/** Row predicate built from a `filter` query value. */
export type DetectionFilter = (row: DetectionRow) => boolean;

/**
 * Parses `{"cve_id":{"in":["CVE-2024-24795"]}, ...}` (several keys are ANDed). Returns an
 * error message for invalid JSON, an unknown field or an operator other than `in`.
 */
export function parseDetectionFilter(text: string): { filter: DetectionFilter } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: `Invalid filter: ${(err as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { error: 'Invalid filter: expected a JSON object.' };
  const clauses: Array<{ keys: string[]; values: unknown[] }> = [];
  for (const [field, cond] of Object.entries(raw as Record<string, unknown>)) {
    if (!DETECTION_FIELDS.includes(field)) return { error: `Invalid filter field: "${field}".` };
    if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) {
      return { error: `Invalid filter for "${field}": expected an object like {"in": [...]}.` };
    }
    for (const [op, values] of Object.entries(cond as Record<string, unknown>)) {
      if (op !== 'in') return { error: `Unsupported filter operator "${op}" for "${field}".` };
      if (!Array.isArray(values)) return { error: `Invalid filter for "${field}": "in" expects a list.` };
      const alias = FIELD_ALIASES[field];
      clauses.push({ keys: alias ? [field, alias] : [field], values });
    }
  }
  const equal = (a: unknown, b: unknown): boolean =>
    a === b || (a !== null && b !== null && a !== undefined && String(a) === String(b));
  const filter: DetectionFilter = (row) => {
    const rec = row as unknown as Record<string, unknown>;
    return clauses.every(({ keys, values }) => keys.some((k) => k in rec && values.some((v) => equal(rec[k], v))));
  };
  return { filter };
}

/** Opaque `after` cursor: base64url of the last identity served. */
export function encodeDetectionCursor(identity: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: identity }), 'utf8').toString('base64url');
}

/** The identity inside a cursor issued by encodeDetectionCursor, or undefined. */
export function decodeDetectionCursor(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text)) return undefined;
  try {
    const o = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (typeof o !== 'object' || o === null) return undefined;
    const { v, after } = o as { v?: unknown; after?: unknown };
    return v === 1 && typeof after === 'string' ? after : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

type PoolName = 'chromium' | 'webkit' | 'zoom' | 'firefox' | 'office' | 'electron' | 'python' | 'openssl';

interface App {
  name: string;
  bundle_id: string | null;
  path: string;
  versions: readonly string[];
  /** CVE pools that affect this app. Apps without bundle_id never share a pool. */
  pools: readonly PoolName[];
}

const APPS: readonly App[] = [
  {
    name: 'Google Chrome',
    bundle_id: 'com.google.Chrome',
    path: '/Applications/Google Chrome.app',
    versions: ['139.0.7258.155', '140.0.7339.81', '140.0.7339.133'],
    pools: ['chromium'],
  },
  {
    name: 'Safari',
    bundle_id: 'com.apple.Safari',
    path: '/Applications/Safari.app',
    versions: ['17.6', '18.3', '18.5'],
    pools: ['webkit'],
  },
  {
    name: 'zoom.us',
    bundle_id: 'us.zoom.xos',
    path: '/Applications/zoom.us.app',
    versions: ['6.1.11', '6.2.5'],
    pools: ['zoom'],
  },
  {
    name: 'Firefox',
    bundle_id: 'org.mozilla.firefox',
    path: '/Applications/Firefox.app',
    versions: ['128.0.3', '131.0.2'],
    pools: ['firefox'],
  },
  {
    name: 'Microsoft Word',
    bundle_id: 'com.microsoft.Word',
    path: '/Applications/Microsoft Word.app',
    versions: ['16.88', '16.89.1'],
    pools: ['office'],
  },
  // Electron apps embed Chromium: one CVE can hit Chrome, Slack and VS Code on the same device,
  // and only bundle_id tells those rows apart.
  {
    name: 'Slack',
    bundle_id: 'com.tinyspeck.slackmacgap',
    path: '/Applications/Slack.app',
    versions: ['4.39.95', '4.41.97'],
    pools: ['chromium', 'electron'],
  },
  {
    name: 'Visual Studio Code',
    bundle_id: 'com.microsoft.VSCode',
    path: '/Applications/Visual Studio Code.app',
    versions: ['1.92.2', '1.94.0'],
    pools: ['chromium', 'electron'],
  },
  {
    name: 'python3',
    bundle_id: null,
    path: '/usr/local/bin/python3',
    versions: ['3.11.4', '3.12.1'],
    pools: ['python'],
  },
  {
    name: 'openssl',
    bundle_id: null,
    path: '/opt/homebrew/bin/openssl',
    versions: ['3.0.13', '3.3.1'],
    pools: ['openssl'],
  },
];

const POOL_DESCRIPTIONS: Readonly<Record<PoolName, (r: Rand) => string>> = {
  chromium: (r) =>
    `${pick(r, ['Use after free', 'Integer overflow', 'Type Confusion', 'Heap buffer overflow', 'Out of bounds write'])} in ` +
    `${pick(r, ['V8', 'Blink', 'ANGLE', 'Skia', 'Dawn', 'Mojo', 'WebGPU'])} in Google Chrome prior to 140.0.${int(r, 7000, 7400)}.${int(r, 50, 220)} ` +
    'allowed a remote attacker to potentially exploit heap corruption via a crafted HTML page. ' +
    `(Chromium security severity: ${pick(r, ['Medium', 'High', 'Critical'])})`,
  webkit: (r) =>
    `The issue was addressed with improved ${pick(r, ['memory handling', 'checks', 'bounds checks', 'state management'])}. ` +
    `This issue is fixed in Safari 18.${int(r, 1, 6)}, macOS Sequoia 15.${int(r, 1, 6)}. ` +
    pick(r, [
      'Processing maliciously crafted web content may lead to an unexpected process crash.',
      'A malicious website may exfiltrate data cross-origin.',
      'Processing maliciously crafted web content may lead to arbitrary code execution.',
    ]),
  zoom: (r) =>
    `${pick(r, ['Improper privilege management', 'Untrusted search path', 'Buffer overflow'])} in the installer for Zoom Workplace App ` +
    `for macOS before version 6.${int(r, 1, 3)}.${int(r, 0, 12)} may allow an authenticated user to conduct an escalation of privilege via local access.`,
  firefox: (r) =>
    `Memory safety bugs present in Firefox ${int(r, 128, 132)}. Some of these bugs showed evidence of memory corruption and we ` +
    'presume that with enough effort some of these could have been exploited to run arbitrary code.',
  office: (r) =>
    `Microsoft ${pick(r, ['Office', 'Word'])} ${pick(r, ['Remote Code Execution', 'Information Disclosure', 'Elevation of Privilege'])} Vulnerability`,
  electron: (r) =>
    `Electron before ${int(r, 28, 32)}.${int(r, 0, 9)}.${int(r, 0, 9)} allows a ${pick(r, ['context isolation bypass', 'renderer sandbox escape', 'ASAR integrity bypass'])} ` +
    'via crafted content loaded in a renderer process.',
  python: (r) =>
    `An issue was discovered in Python before 3.12.${int(r, 2, 9)}. ${pick(r, [
      'The tarfile module is vulnerable to a denial of service via crafted archives.',
      'The email module does not properly quote newlines in headers, allowing header injection.',
      'The ipaddress module incorrectly classifies private ranges.',
    ])}`,
  openssl: (r) =>
    `Issue summary: ${pick(r, [
      'Checking excessively long DH keys or parameters may be very slow.',
      'Calling SSL_free_buffers potentially causes use-after-free.',
      'Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash.',
    ])} Impact summary: applications that use the affected API may be vulnerable to a Denial of Service.`,
};

const POOL_NAMES: readonly PoolName[] = [
  'chromium',
  'webkit',
  'zoom',
  'firefox',
  'office',
  'electron',
  'python',
  'openssl',
];
const CVES_PER_POOL = 40;

interface Cve {
  id: string;
  description: string;
  score: number;
  severity: string;
  publishedAt: string;
  modifiedAt: string;
}

interface Host {
  id: string;
  name: string;
  serial: string;
  model: string;
  osVersion: string;
  blueprint: { id: string; name: string };
  /** Indexes into APPS of the apps installed on this device. */
  apps: number[];
}

function severityOf(score: number): string {
  if (score >= 9) return 'Critical';
  if (score >= 7) return 'High';
  if (score >= 4) return 'Medium';
  return 'Low';
}

/** FNV-1a, for choices that must depend only on (device, app) and not on draw order. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

interface Entry {
  key: string;
  row: DetectionRow;
  json?: string;
}

function lowerBound(arr: readonly Entry[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] as Entry).key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first entry whose key is > `key`. */
function upperBound(arr: readonly Entry[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] as Entry).key <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface DetectionStoreOptions {
  seed?: number;
  /** Default 'current'. 'mixed' gives each generated row one set or the other (about 30% legacy). */
  fieldSet?: DetectionFieldSet;
}

export interface DetectionPageQuery {
  /** Identity of the last row served; only rows with a greater identity are returned. */
  after?: string;
  limit: number;
  filter?: DetectionFilter;
}

export interface DetectionPage {
  rows: DetectionRow[];
  /** The identities of the rows (same order). */
  keys: string[];
  /** Whether matching rows remain after the last one returned. */
  more: boolean;
}

export class DetectionStore {
  private readonly r: Rand;
  private readonly fleet: Fleet;
  private readonly hosts: Host[] = [];
  private readonly pools: Record<PoolName, Cve[]>;
  private entries: Entry[] = [];
  private readonly byKey = new Map<string, Entry>();
  /** Rows removed by remove()/randomChurn(), which churn may bring back. */
  private readonly removed = new Map<string, DetectionRow>();
  private anonymousRows = 0;
  private _fieldSet: DetectionFieldSet;

  constructor(opts: DetectionStoreOptions = {}) {
    const seed = opts.seed ?? 1;
    this._fieldSet = opts.fieldSet ?? 'current';
    this.r = seededRandom((seed ^ 0xde7ec7) >>> 0);
    this.fleet = fleetForSeed(seed);
    const cr = seededRandom((seed ^ 0xc0ffee) >>> 0);
    const used = new Set<string>();
    const pools = {} as Record<PoolName, Cve[]>;
    for (const pool of POOL_NAMES) {
      const list: Cve[] = [];
      for (let i = 0; i < CVES_PER_POOL; i++) {
        let id: string;
        do id = `CVE-${int(cr, 2023, 2025)}-${int(cr, 1000, 52999)}`;
        while (used.has(id));
        used.add(id);
        const score = Math.round((2 + cr() * 7.9) * 10) / 10;
        // NVD timestamps carry milliseconds only: the last three digits are zero.
        const published = dateToMicros(new Date(Date.UTC(2023, 0, 1) + Math.floor(cr() * 2.7 * 365 * 86_400_000)));
        const modified = published + BigInt(Math.floor(cr() * 60 * 86_400_000)) * 1000n;
        list.push({
          id,
          description: POOL_DESCRIPTIONS[pool](cr),
          score,
          severity: severityOf(score),
          publishedAt: formatNaiveMicros(published),
          modifiedAt: formatNaiveMicros(modified),
        });
      }
      pools[pool] = list;
    }
    this.pools = pools;
    for (const d of this.fleet.devices) this.addHost(d.id, d.name, d.serial, d.model, d.os.version);
  }

  get fieldSet(): DetectionFieldSet {
    return this._fieldSet;
  }

  /** Field set for rows generated from now on (existing rows keep theirs). */
  set fieldSet(v: DetectionFieldSet) {
    this._fieldSet = v;
  }

  get size(): number {
    return this.entries.length;
  }

  /** All rows, in identity order. */
  all(): DetectionRow[] {
    return this.entries.map((e) => e.row);
  }

  /** All identities, in order. */
  identities(): string[] {
    return this.entries.map((e) => e.key);
  }

  get(identity: string): DetectionRow | undefined {
    return this.byKey.get(identity)?.row;
  }

  has(identity: string): boolean {
    return this.byKey.has(identity);
  }

  /**
   * Generates `count` new rows (identities not yet present) with detection times spread over
   * [from, to] (default: the 30 days before now), adds them and returns them.
   */
  seedDetections(count: number, window: { from?: Date; to?: Date } = {}): DetectionRow[] {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('detections count must be a non-negative integer');
    const to = window.to ? dateToMicros(window.to) : nowMicros();
    const from = window.from ? dateToMicros(window.from) : to - 30n * 86_400_000_000n;
    if (to < from) throw new RangeError('detections `to` is before `from`');
    const rows: DetectionRow[] = [];
    const pending = new Set<string>();
    const span = Number(to - from);
    for (let i = 0; i < count; i++) {
      const t = from + BigInt(Math.floor(this.r() * span));
      const row = this.generate(t, to, pending);
      pending.add(detectionIdentity(row));
      rows.push(row);
    }
    this.add(rows);
    return rows;
  }

  /** Inserts rows; a row whose identity is present replaces it. Returns how many were new. */
  add(rows: readonly DetectionRow[]): number {
    let inserted = 0;
    const fresh: Entry[] = [];
    for (const row of rows) {
      if (typeof row.device_id !== 'string' || typeof row.cve_id !== 'string') {
        throw new TypeError('a detection row needs string device_id and cve_id');
      }
      const key = detectionIdentity(row);
      this.removed.delete(key);
      const existing = this.byKey.get(key);
      if (existing) {
        existing.row = row;
        existing.json = undefined;
        continue;
      }
      const entry: Entry = { key, row };
      this.byKey.set(key, entry);
      fresh.push(entry);
      inserted++;
    }
    if (fresh.length > 32) {
      this.entries = this.entries.concat(fresh).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    } else {
      for (const e of fresh) this.entries.splice(lowerBound(this.entries, e.key), 0, e);
    }
    return inserted;
  }

  /**
   * Inserts rows whose identity fields may be empty (Kandji has been seen to omit them), each kept as a row of its
   * own under a store key of its own (never replacing another). Returns those keys, usable with get() and remove().
   */
  addWithoutIdentity(rows: readonly DetectionRow[]): string[] {
    const keys: string[] = [];
    for (const row of rows) {
      const key = `${detectionIdentity(row)}#${String(this.anonymousRows++).padStart(8, '0')}`;
      const entry: Entry = { key, row };
      this.byKey.set(key, entry);
      this.entries.splice(lowerBound(this.entries, key), 0, entry);
      keys.push(key);
    }
    return keys;
  }

  /** Removes rows by identity (unknown identities are ignored). Returns the rows removed. */
  remove(identities: readonly string[]): DetectionRow[] {
    const gone = new Set<string>();
    const out: DetectionRow[] = [];
    for (const key of identities) {
      const e = this.byKey.get(key);
      if (!e || gone.has(key)) continue;
      gone.add(key);
      out.push(e.row);
      this.byKey.delete(key);
      this.removed.set(key, e.row);
    }
    if (gone.size > 0) this.entries = this.entries.filter((e) => !gone.has(e.key));
    return out;
  }

  /**
   * Remediation and new findings: removes `remove` random rows, then adds `add` rows detected
   * now. About a third of the added rows (when there are any) are earlier removed rows coming
   * back (same identity, new detection time), the rest are new identities.
   */
  randomChurn(opts: { add?: number; remove?: number }): { added: DetectionRow[]; removed: DetectionRow[] } {
    const r = this.r;
    const toRemove = Math.min(opts.remove ?? 0, this.entries.length);
    const keys = new Set<string>();
    while (keys.size < toRemove) keys.add((this.entries[Math.floor(r() * this.entries.length)] as Entry).key);
    const removed = this.remove([...keys].sort());
    const added: DetectionRow[] = [];
    const now = nowMicros();
    const comeback = [...this.removed.keys()].filter((k) => !keys.has(k)).sort();
    const pending = new Set<string>();
    for (let i = 0; i < (opts.add ?? 0); i++) {
      const t = now - BigInt(Math.floor(r() * 5_000_000));
      if (comeback.length > 0 && chance(r, 0.35)) {
        const idx = Math.floor(r() * comeback.length);
        const key = comeback.splice(idx, 1)[0] as string;
        added.push(this.redetected(this.removed.get(key) as DetectionRow, t));
      } else {
        const row = this.generate(t, now, pending);
        pending.add(detectionIdentity(row));
        added.push(row);
      }
    }
    this.add(added);
    return { added, removed };
  }

  /** A page in identity order after `after`, with up to `limit` rows matching `filter`. */
  page(q: DetectionPageQuery): DetectionPage {
    const arr = this.entries;
    let i = q.after === undefined ? 0 : upperBound(arr, q.after);
    const rows: DetectionRow[] = [];
    const keys: string[] = [];
    const f = q.filter;
    for (; i < arr.length && rows.length < q.limit; i++) {
      const e = arr[i] as Entry;
      if (f && !f(e.row)) continue;
      rows.push(e.row);
      keys.push(e.key);
    }
    let more = false;
    for (; i < arr.length; i++) {
      if (!f || f((arr[i] as Entry).row)) {
        more = true;
        break;
      }
    }
    return { rows, keys, more };
  }

  /** JSON text of a row in the store (cached). */
  json(identity: string): string {
    const e = this.byKey.get(identity);
    if (!e) throw new Error(`no detection ${identity}`);
    e.json ??= JSON.stringify(e.row);
    return e.json;
  }

  // -------------------------------------------------------------------------------------------

  private addHost(id: string, name: string, serialNo: string, model: string, osVersion: string): Host {
    const h = hash(id);
    const blueprint = this.fleet.blueprints[h % this.fleet.blueprints.length] ?? { id: uuid(this.r), name: 'Default' };
    const apps: number[] = [];
    for (let a = 0; a < APPS.length; a++) if (hash(`${id}/${a}`) % 100 < 55) apps.push(a);
    if (apps.length === 0) apps.push(h % APPS.length);
    const host: Host = {
      id,
      name,
      serial: serialNo,
      model,
      osVersion,
      blueprint: { id: blueprint.id, name: blueprint.name },
      apps,
    };
    this.hosts.push(host);
    return host;
  }

  /** An extra device, for stores larger than the seeded fleet can hold. */
  private extraHost(): Host {
    const r = this.r;
    const base = pick(r, this.fleet.devices);
    const n = this.hosts.length;
    return this.addHost(
      uuid(r),
      `${base.name.split(' (')[0] ?? base.name} (${n})`,
      serial(r),
      base.model,
      base.os.version,
    );
  }

  /** A new row (identity absent from the store and from `pending`) detected at `t`. */
  private generate(t: bigint, latest: bigint, pending: ReadonlySet<string>): DetectionRow {
    const r = this.r;
    for (let attempt = 0; ; attempt++) {
      const host = attempt > 0 && attempt % 40 === 0 ? this.extraHost() : pick(r, this.hosts);
      const app = APPS[pick(r, host.apps)] as App;
      const cve = pick(r, this.pools[pick(r, app.pools)]);
      const key = `${host.id}|${app.bundle_id ?? ''}|${cve.id}`;
      if (this.byKey.has(key) || this.removed.has(key) || pending.has(key)) continue;
      const legacy = this._fieldSet === 'legacy' || (this._fieldSet === 'mixed' && chance(r, 0.3));
      return this.makeRow(host, app, cve, t, latest, legacy);
    }
  }

  private makeRow(host: Host, app: App, cve: Cve, t: bigint, latest: bigint, legacy: boolean): DetectionRow {
    const base: DetectionRowBase = {
      device_id: host.id,
      device_name: host.name,
      device_serial_number: host.serial,
      device_model: host.model,
      device_os_version: host.osVersion,
      blueprint_id: host.blueprint.id,
      blueprint_name: host.blueprint.name,
      name: app.name,
      version: app.versions[hash(`${host.id}/${app.name}`) % app.versions.length] as string,
      path: app.path,
      bundle_id: app.bundle_id,
      cve_id: cve.id,
      cve_link: `https://nvd.nist.gov/vuln/detail/${cve.id}`,
      cvss_score: cve.score,
    };
    const { cve_link, cvss_score, ...head } = base;
    if (legacy) {
      const seen = t + BigInt(Math.floor(this.r() * Number(latest > t ? latest - t : 0n)));
      const row: LegacyDetectionRow = {
        ...head,
        cve_description: cve.description,
        cve_link,
        cvss_score,
        cvss_severity: cve.severity,
        first_detection_date: formatNaiveMicros(t, ' '),
        latest_detection_date: formatNaiveMicros(seen, ' '),
      };
      return row;
    }
    const row: CurrentDetectionRow = {
      ...head,
      description: cve.description,
      cve_link,
      cvss_score,
      severity: cve.severity,
      detection_datetime: formatMicros(t),
      cve_published_at: cve.publishedAt,
      cve_modified_at: cve.modifiedAt,
    };
    return row;
  }

  /** A removed row coming back (e.g. the app was downgraded again), detected at `t`. */
  private redetected(row: DetectionRow, t: bigint): DetectionRow {
    if (isLegacyDetectionRow(row)) {
      const naive = formatNaiveMicros(t, ' ');
      return { ...row, first_detection_date: naive, latest_detection_date: naive };
    }
    return { ...row, detection_datetime: formatMicros(t) };
  }
}
