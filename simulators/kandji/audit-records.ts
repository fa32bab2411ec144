/**
 * Deterministic generator of realistic Kandji audit records (`GET /api/v1/audit/events`),
 * shaped after the examples of Kandji's API documentation (https://api-docs.kandji.io/) and the
 * log samples of Datadog's Kandji integration (https://docs.datadoghq.com/integrations/kandji/).
 * The same seed always yields the same records in the same order.
 */
import { seededRandom } from '../faults';
import { formatMicros } from './time';

export type AuditRecord = { id: string; action: string; occurred_at: string; [k: string]: unknown };

export type AuditTargetType =
  'admin' | 'file_detection' | 'vulnerability' | 'device' | 'blueprint' | 'library_item' | 'api_token';

export const AUDIT_TARGET_TYPES: readonly AuditTargetType[] = [
  'admin',
  'file_detection',
  'vulnerability',
  'device',
  'blueprint',
  'library_item',
  'api_token',
];

/** Relative frequency of each target type in generated streams. */
const TARGET_WEIGHTS: ReadonlyArray<readonly [AuditTargetType, number]> = [
  ['admin', 8],
  ['file_detection', 16],
  ['vulnerability', 22],
  ['device', 20],
  ['blueprint', 14],
  ['library_item', 12],
  ['api_token', 8],
];

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type Rand = () => number;

// ---------------------------------------------------------------------------------------------
// Small random helpers
// ---------------------------------------------------------------------------------------------

export function int(r: Rand, min: number, maxInclusive: number): number {
  return min + Math.floor(r() * (maxInclusive - min + 1));
}

export function pick<T>(r: Rand, items: readonly T[]): T {
  const item = items[Math.floor(r() * items.length)];
  if (item === undefined) throw new Error('pick from empty list');
  return item;
}

export function chance(r: Rand, p: number): boolean {
  return r() < p;
}

export function hex(r: Rand, n: number, upper = false): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return upper ? s.toUpperCase() : s;
}

export function uuid(r: Rand): string {
  const variant = '89ab'[Math.floor(r() * 4)] ?? '8';
  return `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-${variant}${hex(r, 3)}-${hex(r, 12)}`;
}

function mac(r: Rand): string {
  const upper = chance(r, 0.3);
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(hex(r, 2, upper));
  return parts.join(':');
}

export function serial(r: Rand): string {
  const alnum = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  let s = 'C02';
  for (let i = 0; i < 9; i++) s += alnum[Math.floor(r() * alnum.length)];
  return s;
}

/**
 * A ULID-like id: 10 Crockford base32 chars of millisecond time, then 16 random chars (26 total),
 * e.g. `01JNGZW47KZKPXE1JWCFE4PHDW`.
 */
export function ulid(timeMs: number, r: Rand): string {
  let t = Math.max(0, Math.floor(timeMs));
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[Math.floor(r() * 32)];
  return time + rand;
}

// ---------------------------------------------------------------------------------------------
// Static vocabulary
// ---------------------------------------------------------------------------------------------

const FIRST_NAMES = ['John', 'Maria', 'Aiko', 'Lars', 'Priya', 'Omar', 'Chloe', 'Diego', 'Nadia', 'Sam'];
const LAST_NAMES = ['Carter', 'Garcia', 'Tanaka', 'Nilsen', 'Patel', 'Haddad', 'Martin', 'Rossi', 'Ivanova', 'Lee'];
const ROLES = ['admin', 'standard', 'auditor', 'helpdesk'];
const MODELS = [
  'MacBook Air',
  'MacBook Pro (14-inch, 2023)',
  'MacBook Air (Retina, 13-inch, 2018)',
  'Mac mini (2023)',
  'iMac (24-inch, 2021)',
  'MacBook Pro (16-inch, 2021)',
];
const OS = [
  { version: '14.7.6', family: 'sonoma', platform: 'sonoma', name: 'Sonoma' },
  { version: '15.3.1', family: 'sequoia', platform: 'sequoia', name: 'Sequoia' },
  { version: '13.6.9', family: 'ventura', platform: 'ventura', name: 'Ventura' },
];
export const BLUEPRINT_NAMES = [
  'Engineering',
  'Sales',
  'Executives',
  'Kiosk',
  'Threat',
  'Blueprint-Test',
  'Contractors',
  'Lab',
];
const LIBRARY_ITEM_NAMES = [
  'GitHub',
  'Apple Configurator',
  'Apple Developer',
  'Google Chrome',
  'Slack',
  'Zoom',
  'FileVault',
  'Avert',
  'Passcode',
  'Wi-Fi Corporate',
  'Microsoft Office',
  'Rosetta 2',
  'Install Homebrew (script)',
  'Screen Saver',
];
const LIBRARY_ITEM_TYPES = [
  'custom-app',
  'custom-script',
  'custom-profile',
  'auto-app',
  'profile',
  'avert',
  'app-store-app',
];
const API_PERMISSIONS = [
  { path: '/api/v1/audit/events', http_method: 'GET' },
  { path: '/api/v1/devices', http_method: 'GET' },
  { path: '/api/v1/devices/{device_id}', http_method: 'PATCH' },
  { path: '/api/v1/users', http_method: 'GET' },
  { path: '/api/v1/users/{id}', http_method: 'GET' },
  { path: '/api/v1/users/{id}', http_method: 'DELETE' },
  { path: '/api/v1/vulnerability-management/detections', http_method: 'GET' },
  { path: '/api/v1/threat-details', http_method: 'GET' },
  { path: '/api/v1/blueprints', http_method: 'GET' },
];
export const THREATS: ReadonlyArray<{ family: string; classification: 'Malware' | 'PUP'; description: string }> = [
  {
    family: 'SpyDok',
    classification: 'Malware',
    description:
      'SpyDok is spyware designed to stealthily collect sensitive information such as login credentials, browsing history, and other personal data. It operates by monitoring user activity, exfiltrating stolen data to remote servers controlled by attackers, and maintaining persistence to evade detection.',
  },
  {
    family: 'AMOS',
    classification: 'Malware',
    description:
      'Atomic macOS Stealer (AMOS) is an information stealer distributed through fake application installers. It harvests keychain items, browser cookies and saved passwords, cryptocurrency wallet files and documents, and uploads them to attacker infrastructure.',
  },
  {
    family: 'Adload',
    classification: 'Malware',
    description:
      'Adload is an adware loader that installs persistent launch agents, proxies browser traffic and injects advertisements. Variants frequently change their signing identities and on-disk names to avoid detection.',
  },
  {
    family: 'Pirrit',
    classification: 'PUP',
    description:
      'Pirrit is potentially unwanted adware that modifies browser settings and displays intrusive advertisements.',
  },
  {
    family: 'MacKeeper',
    classification: 'PUP',
    description:
      'MacKeeper is a potentially unwanted system utility known for aggressive upselling and scareware tactics.',
  },
  {
    family: 'XLoader',
    classification: 'Malware',
    description:
      'XLoader is a credential stealer and keylogger sold as malware-as-a-service. The macOS variant is packaged as a Java or native application, captures screenshots and keystrokes, and collects credentials from browsers and mail clients.',
  },
];
export const MALWARE_FILES = [
  { dir: '/Users/Shared/AppStore.app/Contents/MacOS', name: 'AppStore', ext: '' },
  { dir: '/private/tmp', name: 'update.sh', ext: 'sh' },
  { dir: '/Users/{user}/Downloads', name: 'Installer.dmg', ext: 'dmg' },
  { dir: '/Users/{user}/Library/Application Support/.helper', name: 'helperd', ext: '' },
  { dir: '/Applications/CleanMyDisk.app/Contents/MacOS', name: 'CleanMyDisk', ext: '' },
  { dir: '/Users/{user}/Library/LaunchAgents', name: 'com.update.agent.plist', ext: 'plist' },
];
const VULN_APPS = [
  { name: 'Safari', path: '/Applications/Safari.app' },
  { name: 'Google Chrome', path: '/Applications/Google Chrome.app' },
  { name: 'zoom.us', path: '/Applications/zoom.us.app' },
  { name: 'Firefox', path: '/Applications/Firefox.app' },
  { name: 'Microsoft Word', path: '/Applications/Microsoft Word.app' },
  { name: 'Slack', path: '/Applications/Slack.app' },
];
const VULN_DESCRIPTIONS = [
  'A cross-origin issue existed with "iframe" elements. This was addressed with improved tracking of security origins. This issue is fixed in Safari 18, visionOS 2, watchOS 11, macOS Sequoia 15, iOS 18 and iPadOS 18, tvOS 18. A malicious website may exfiltrate data cross-origin.',
  'Integer overflow in V8 in Google Chrome prior to 140.0.7339.207 allowed a remote attacker to potentially exploit heap corruption via a crafted HTML page. (Chromium security severity: High)',
  'Improper privilege management in the installer for Zoom Workplace App for macOS may allow an authenticated user to conduct an escalation of privilege via local access.',
  'Memory safety bugs present in Firefox. Some of these bugs showed evidence of memory corruption and we presume that with enough effort some of these could have been exploited to run arbitrary code.',
  'Microsoft Office Remote Code Execution Vulnerability.',
  'A use-after-free in the renderer could allow a remote attacker to execute arbitrary code via a crafted message.',
];
const SEVERITIES: ReadonlyArray<readonly [string, number]> = [
  ['Low', 3.1],
  ['Medium', 6.5],
  ['High', 8.8],
  ['Critical', 9.8],
];

// ---------------------------------------------------------------------------------------------
// Fleet: a fixed tenant built from the seed, so records refer to consistent devices and users
// ---------------------------------------------------------------------------------------------

export interface Admin {
  id: string;
  first_name: string;
  last_name: string;
  email: string;
  role: string;
}
export interface Device {
  id: string;
  name: string;
  hostName: string;
  localHostName: string;
  serial: string;
  model: string;
  os: (typeof OS)[number];
  macs: string[];
  user: { id: string; name: string };
}
export interface Named {
  id: string;
  name: string;
}
export interface Fleet {
  admins: Admin[];
  devices: Device[];
  blueprints: Named[];
  libraryItems: Array<Named & { type: string }>;
  apiTokens: Array<{ id: string; label: string }>;
  edrLibraryItemId: string;
}

export function buildFleet(r: Rand): Fleet {
  const admins: Admin[] = [];
  for (let i = 0; i < 6; i++) {
    const first_name = pick(r, FIRST_NAMES);
    const last_name = pick(r, LAST_NAMES);
    admins.push({
      id: uuid(r),
      first_name,
      last_name,
      email: `${first_name}.${last_name}@example.com`.toLowerCase(),
      role: i === 0 ? 'admin' : pick(r, ROLES),
    });
  }
  const devices: Device[] = [];
  for (let i = 0; i < 40; i++) {
    const owner = pick(r, FIRST_NAMES);
    const model = pick(r, MODELS);
    const short = model.split(' (')[0] ?? model;
    const suffix = i < 10 ? '' : `-${i}`;
    const hostBase = `${owner}s-${short.replace(/ /g, '-')}${suffix}`;
    const device: Device = {
      id: uuid(r),
      name: `${owner}’s ${short}${suffix ? ` (${i})` : ''}`,
      hostName: `${hostBase}.local`,
      localHostName: hostBase,
      serial: serial(r),
      model,
      os: pick(r, OS),
      macs: [],
      user: { id: String(int(r, 501, 510)), name: owner.toLowerCase() },
    };
    const m0 = mac(r);
    device.macs = [m0, mac(r), m0];
    devices.push(device);
  }
  const blueprints: Named[] = BLUEPRINT_NAMES.map((name) => ({ id: uuid(r), name }));
  const libraryItems = LIBRARY_ITEM_NAMES.map((name) => ({ id: uuid(r), name, type: pick(r, LIBRARY_ITEM_TYPES) }));
  const apiTokens = ['audit log events', 'datadog', 'inventory sync', 'helpdesk automation'].map((label) => ({
    id: uuid(r),
    label,
  }));
  return { admins, devices, blueprints, libraryItems, apiTokens, edrLibraryItemId: uuid(r) };
}

/** The tenant (devices, admins, blueprints, ...) that the audit records of `seed` refer to. */
export function fleetForSeed(seed: number): Fleet {
  return buildFleet(seededRandom((seed ^ 0x9e3779b9) >>> 0));
}

// ---------------------------------------------------------------------------------------------
// Factory
// ---------------------------------------------------------------------------------------------

export interface MakeRecordOptions {
  /** Force a target type; otherwise drawn from a realistic mix. */
  targetType?: AuditTargetType;
  /**
   * Give the record an id that sorts after this one (a monotonic ULID increment), e.g. for an
   * event sharing the timestamp of one already published.
   */
  idAfter?: string;
}

/** The next Crockford base32 string of the same length (carrying leftwards). */
export function incrementId(id: string): string {
  const chars = id.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    const v = CROCKFORD.indexOf(chars[i] ?? '');
    if (v < 0) throw new Error(`not a Crockford base32 id: ${id}`);
    if (v < 31) {
      chars[i] = CROCKFORD[v + 1] as string;
      return chars.join('');
    }
    chars[i] = '0';
  }
  throw new Error(`id overflow: ${id}`);
}

/**
 * Builds audit records for a seeded tenant. Ids are unique within one factory.
 * `make(micros)` takes the `occurred_at` instant in microseconds since the epoch.
 */
export class AuditRecordFactory {
  private readonly r: Rand;
  private readonly fleet: Fleet;
  private readonly ids = new Set<string>();
  private readonly totalWeight = TARGET_WEIGHTS.reduce((s, [, w]) => s + w, 0);

  constructor(seed = 1) {
    this.r = seededRandom(seed);
    this.fleet = fleetForSeed(seed);
  }

  /** Reserve an id (e.g. one appended from outside) so it is never generated. */
  reserveId(id: string): void {
    this.ids.add(id);
  }

  newId(micros: bigint): string {
    const ms = Number(micros / 1000n);
    for (;;) {
      const id = ulid(ms, this.r);
      if (!this.ids.has(id)) {
        this.ids.add(id);
        return id;
      }
    }
  }

  private idAfter(prev: string): string {
    let id = incrementId(prev);
    while (this.ids.has(id)) id = incrementId(id);
    this.ids.add(id);
    return id;
  }

  make(micros: bigint, opts: MakeRecordOptions = {}): AuditRecord {
    const targetType = opts.targetType ?? this.drawTargetType();
    const occurred_at = formatMicros(micros);
    const id = opts.idAfter !== undefined ? this.idAfter(opts.idAfter) : this.newId(micros);
    switch (targetType) {
      case 'admin':
        return this.admin(id, occurred_at);
      case 'file_detection':
        return this.fileDetection(id, occurred_at);
      case 'vulnerability':
        return this.vulnerability(id, occurred_at, micros);
      case 'device':
        return this.device(id, occurred_at);
      case 'blueprint':
        return this.blueprint(id, occurred_at);
      case 'library_item':
        return this.libraryItem(id, occurred_at);
      case 'api_token':
        return this.apiToken(id, occurred_at);
    }
  }

  private drawTargetType(): AuditTargetType {
    let x = this.r() * this.totalWeight;
    for (const [type, w] of TARGET_WEIGHTS) {
      if (x < w) return type;
      x -= w;
    }
    return 'device';
  }

  private admin(id: string, occurred_at: string): AuditRecord {
    const r = this.r;
    const actor = pick(r, this.fleet.admins);
    const target = pick(r, this.fleet.admins);
    const action = pick(r, ['create', 'update', 'update', 'delete']);
    const rec: AuditRecord = {
      id,
      action,
      occurred_at,
      actor_id: actor.id,
      actor_type: 'user',
      target_id: target.id,
      target_type: 'admin',
      target_component: 'user',
      new_state:
        action === 'delete'
          ? null
          : { role: pick(r, ROLES), email: target.email, first_name: target.first_name, last_name: target.last_name },
    };
    // Datadog's admin sample carries no metadata at all.
    if (chance(r, 0.5)) rec['metadata'] = {};
    return rec;
  }

  private fileDetection(id: string, occurred_at: string): AuditRecord {
    const r = this.r;
    const device = pick(r, this.fleet.devices);
    const threat = pick(r, THREATS);
    const file = pick(r, MALWARE_FILES);
    const dir = file.dir.replace('{user}', device.user.name);
    const sha = hex(r, 64);
    const ts = occurred_at.replace('Z', '+00:00');
    const remediate = chance(r, 0.25);
    const pid = int(r, 300, 99999);
    const inode = String(int(r, 100000, 9999999));
    const fsDevice = String(16777216 + int(r, 0, 10));
    const newState: Record<string, unknown> = {
      process: { pid, name: file.name },
      ecs: { version: '8.17' },
      file: {
        path: `${dir}/${file.name}`,
        inode,
        hash: { sha256: sha },
        extension: file.ext,
        directory: dir,
        device: fsDevice,
        name: file.name,
      },
      event: {
        action: remediate ? 'threat-quarantined' : 'threat-detected',
        type: ['indicator'],
        kind: 'event',
        created: ts,
        outcome: 'success',
        category: ['file', 'threat', threat.classification === 'Malware' ? 'malware' : 'pup'],
      },
      '@timestamp': ts,
      user: { id: device.user.id, name: device.user.name },
      host: {
        mac: device.macs,
        id: device.id,
        os: device.os,
        name: device.hostName,
      },
    };
    // Some detections carry a big process context, making records a few KB.
    if (chance(r, 0.3)) {
      const args: string[] = [`${dir}/${file.name}`];
      const n = int(r, 10, 60);
      for (let i = 0; i < n; i++) args.push(`--opt${i}=${hex(r, int(r, 8, 48))}`);
      newState['process'] = {
        pid,
        name: file.name,
        executable: `${dir}/${file.name}`,
        args,
        command_line: args.join(' '),
        parent: { pid: int(r, 1, 600), name: pick(r, ['launchd', 'bash', 'zsh', 'Finder', 'osascript']) },
        code_signature: {
          exists: chance(r, 0.5),
          signing_id: `com.${file.name.toLowerCase()}.app`,
          team_id: hex(r, 10, true),
        },
        env: Object.fromEntries(Array.from({ length: int(r, 5, 25) }, (_, i) => [`VAR_${i}`, hex(r, int(r, 16, 64))])),
      };
    }
    const metadata: Record<string, unknown> = {
      file_status: remediate ? 'Quarantined' : 'Detected',
      classification_source: 'Kandji',
      threat_family_name: threat.family,
      action_taken: remediate ? 'Quarantined' : 'No Action',
      threat_status: remediate ? 'Quarantined' : 'Not Quarantined',
      local_host_name: device.localHostName,
      library_item_id: this.fleet.edrLibraryItemId,
      classification: threat.classification,
      threat_description: threat.description,
      initial_detection_date: ts,
      threat_id: sha,
      device: { model: device.model, id: device.id, serial_number: device.serial, name: device.name },
    };
    if (remediate) metadata['resolved_date'] = ts;
    return {
      id,
      action: remediate ? 'remediate' : 'detect',
      occurred_at,
      actor_id: 'EDR',
      actor_type: 'kandji',
      target_id: `${device.id}.${fsDevice}.${inode}`,
      target_type: 'file_detection',
      target_component: remediate ? 'remediation' : 'file',
      new_state: newState,
      metadata,
    };
  }

  private vulnerability(id: string, occurred_at: string, micros: bigint): AuditRecord {
    const r = this.r;
    const device = pick(r, this.fleet.devices);
    const appIdx = int(r, 0, VULN_APPS.length - 1);
    const app = VULN_APPS[appIdx] ?? VULN_APPS[0]!;
    const [severity, base] = pick(r, SEVERITIES);
    const eventId = hex(r, 32);
    const remediate = chance(r, 0.2);
    // Datadog's sample has @timestamp about a second before occurred_at.
    const ts = formatMicros(micros - BigInt(int(r, 100_000, 2_000_000)));
    const rec: AuditRecord = {
      id,
      action: remediate ? 'remediate' : 'detect',
      occurred_at,
      actor_id: 'VULNERABILITY_MANAGEMENT',
      actor_type: 'kandji',
      target_id: eventId,
      target_type: 'vulnerability',
      new_state: {
        ecs: { version: '1.6.0' },
        file: { path: app.path, name: app.name },
        event: {
          action: remediate ? 'vulnerability_remediate' : 'vulnerability_detect',
          type: ['info'],
          kind: 'alert',
          id: eventId,
          category: ['vulnerability'],
        },
        '@timestamp': ts,
        vulnerability: {
          enumeration: 'CVE',
          description: VULN_DESCRIPTIONS[appIdx] ?? VULN_DESCRIPTIONS[0]!,
          scanner: { vendor: 'Kandji' },
          score: { exploitability: Math.round(r() * 100000) / 100000, base },
          id: `CVE-${int(r, 2022, 2025)}-${int(r, 1000, 52000)}`,
          severity,
        },
        host: {
          mac: device.macs,
          id: device.id,
          os: { version: device.os.name, platform: 'darwin', name: 'macOS' },
          name: device.name,
        },
        device: { id: device.id },
      },
    };
    // Datadog's sample has neither target_component nor metadata; sometimes add them.
    if (chance(r, 0.3)) rec['target_component'] = remediate ? 'remediation' : '';
    if (chance(r, 0.3)) rec['metadata'] = {};
    return rec;
  }

  private device(id: string, occurred_at: string): AuditRecord {
    const r = this.r;
    const device = pick(r, this.fleet.devices);
    const blueprint = pick(r, this.fleet.blueprints);
    const action = pick(r, ['create', 'create', 'create', 'update', 'delete']);
    const byDevice = action === 'create' && chance(r, 0.6);
    const actor = byDevice
      ? { id: device.id, type: 'device' }
      : chance(r, 0.5)
        ? { id: pick(r, this.fleet.admins).id, type: 'user' }
        : { id: 'kandji', type: 'kandji' };
    const rec: AuditRecord = {
      id,
      action,
      occurred_at,
      actor_id: actor.id,
      actor_type: actor.type,
      target_id: device.id,
      target_type: 'device',
      target_component: 'enrollment',
      new_state:
        action === 'delete'
          ? null
          : {
              blueprint: { id: blueprint.id, name: blueprint.name },
              enrollment_type: 'MDM',
              device: { id: device.id, name: device.name },
            },
    };
    if (chance(r, 0.6)) rec['metadata'] = { serial_number: device.serial, model: device.model };
    return rec;
  }

  private blueprint(id: string, occurred_at: string): AuditRecord {
    const r = this.r;
    const actor = pick(r, this.fleet.admins);
    const blueprint = pick(r, this.fleet.blueprints);
    const kind = r();
    if (kind < 0.65) {
      const items = this.fleet.libraryItems;
      const sample = (n: number): Named[] => {
        const out: Named[] = [];
        for (let i = 0; i < n; i++) {
          const it = pick(r, items);
          if (!out.some((o) => o.id === it.id)) out.push({ id: it.id, name: it.name });
        }
        return out;
      };
      return {
        id,
        action: 'update',
        occurred_at,
        actor_id: actor.id,
        actor_type: 'user',
        target_id: blueprint.id,
        target_type: 'blueprint',
        target_component: 'library_items',
        new_state: {
          library_items_added: sample(int(r, 0, 3)),
          library_items_removed: sample(int(r, 0, 2)),
          library_items_scoped: sample(int(r, 1, 12)),
          name: blueprint.name,
        },
        metadata: {},
      };
    }
    const action = kind < 0.85 ? 'create' : 'delete';
    return {
      id,
      action,
      occurred_at,
      actor_id: actor.id,
      actor_type: 'user',
      target_id: action === 'create' ? uuid(r) : blueprint.id,
      target_type: 'blueprint',
      target_component: '',
      new_state:
        action === 'create'
          ? { description: '', type: pick(r, ['map', 'classic']), name: `${blueprint.name} ${int(r, 2, 99)}` }
          : null,
      metadata: { source_id: null, source: null },
    };
  }

  private libraryItem(id: string, occurred_at: string): AuditRecord {
    const r = this.r;
    const actor = pick(r, this.fleet.admins);
    const item = pick(r, this.fleet.libraryItems);
    const action = pick(r, ['create', 'update', 'update', 'update', 'delete']);
    const script = item.type === 'custom-script';
    const component = script && action === 'update' ? pick(r, ['first_runs', 'first_run_remediation', '']) : '';
    const newState: Record<string, unknown> | null =
      action === 'delete'
        ? null
        : {
            name: item.name,
            type: item.type,
            active: chance(r, 0.9),
            blueprints: [pick(r, this.fleet.blueprints)].map((b) => ({ id: b.id, name: b.name })),
            ...(script
              ? {
                  execution_frequency: pick(r, ['once', 'every_15_min', 'every_day', 'no_enforcement']),
                  script: `#!/bin/zsh\n# ${item.name}\n${'echo "configuring"\n'.repeat(int(r, 1, 20))}exit 0\n`,
                  remediation_script: component === 'first_run_remediation' ? '#!/bin/zsh\nexit 0\n' : '',
                  restart: false,
                }
              : {}),
          };
    const rec: AuditRecord = {
      id,
      action,
      occurred_at,
      actor_id: actor.id,
      actor_type: 'user',
      target_id: item.id,
      target_type: 'library_item',
      target_component: component,
      new_state: newState,
    };
    if (chance(r, 0.7)) rec['metadata'] = {};
    return rec;
  }

  private apiToken(id: string, occurred_at: string): AuditRecord {
    const r = this.r;
    const actor = pick(r, this.fleet.admins);
    const token = pick(r, this.fleet.apiTokens);
    const action = pick(r, ['create', 'update', 'update', 'delete']);
    const permissions = API_PERMISSIONS.filter(() => chance(r, 0.5));
    return {
      id,
      action,
      occurred_at,
      actor_id: actor.id,
      actor_type: 'user',
      target_id: token.id,
      target_type: 'api_token',
      target_component: '',
      new_state: action === 'delete' ? null : { description: null, permissions, label: token.label },
      metadata: {},
    };
  }
}
