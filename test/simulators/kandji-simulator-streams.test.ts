import {
  DETECTIONS_PATH,
  KandjiSimulator,
  NAIVE_TIMESTAMP_RE,
  OCCURRED_AT_RE,
  THREAT_DETAILS_PATH,
  detectionIdentity,
  isLegacyDetectionRow,
  naiveToMicros,
  threatIdentity,
  type AuditRecord,
  type DetectionRow,
  type ThreatRecord,
} from '../../simulators/kandji';
import { getJson as fetchJson } from '../helpers/http';

const TOKEN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const EVENTS = '/api/v1/audit/events';
const DAY_MS = 86_400_000;

interface DetectionsPage {
  next: string | null;
  previous: string | null;
  results: DetectionRow[];
}
interface ThreatsPage {
  count: number;
  next: string | null;
  previous: string | null;
  malware_count: number;
  pup_count: number;
  results: ThreatRecord[];
}

const getJson = (url: string, headers: Record<string, string> = AUTH) => fetchJson(url, headers);

/** Follows detections pages the robust way, as Kandji's `next` is a URL or a raw cursor: a URL `next` gives `after`, a raw one is `after`. */
async function sweepDetections(
  sim: KandjiSimulator,
  query: Record<string, string>,
  between?: () => void,
): Promise<{ rows: DetectionRow[]; pages: number[]; nexts: string[] }> {
  const rows: DetectionRow[] = [];
  const pages: number[] = [];
  const nexts: string[] = [];
  let after: string | undefined;
  for (;;) {
    const qs = new URLSearchParams(query);
    if (after !== undefined) qs.set('after', after);
    const { status, body } = await getJson(`${sim.url}${DETECTIONS_PATH}?${qs.toString()}`);
    expect(status).toBe(200);
    const page = body as DetectionsPage;
    expect(page.previous).toBeNull();
    rows.push(...page.results);
    pages.push(page.results.length);
    if (page.next === null) break;
    nexts.push(page.next);
    after = /^https?:\/\//.test(page.next) ? (new URL(page.next).searchParams.get('after') ?? undefined) : page.next;
    if (pages.length > 200) throw new Error('runaway pagination');
    between?.();
  }
  return { rows, pages, nexts };
}

describe('detections', () => {
  let sim: KandjiSimulator;
  beforeAll(async () => {
    sim = await KandjiSimulator.start({ tokens: [TOKEN], seed: 11, detections: { count: 700 } });
  });
  afterAll(() => sim.stop());
  afterEach(() => sim.setDetectionsNextAsUrl(false));

  it('rows are shaped like the real-tenant record and unique by identity', () => {
    const rows = sim.detections.all();
    expect(rows).toHaveLength(700);
    expect(sim.detections.size).toBe(700);
    const ids = rows.map(detectionIdentity);
    expect(new Set(ids).size).toBe(700);
    expect(ids).toEqual([...ids].sort());
    const keys = [
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
      'cve_link',
      'cvss_score',
      'severity',
      'detection_datetime',
      'cve_published_at',
      'cve_modified_at',
    ];
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(keys);
      const r = row as any;
      expect(r.detection_datetime).toMatch(OCCURRED_AT_RE);
      expect(r.cve_published_at).toMatch(NAIVE_TIMESTAMP_RE);
      expect(r.cve_modified_at).toMatch(NAIVE_TIMESTAMP_RE);
      expect(r.cve_link).toBe(`https://nvd.nist.gov/vuln/detail/${r.cve_id}`);
    }
    expect(rows.some((r) => r.bundle_id === null)).toBe(true);
    // one CVE on two apps of the same device: only bundle_id separates the rows
    const byDeviceCve = new Map<string, Set<string | null>>();
    for (const r of rows) {
      const k = `${r.device_id}|${r.cve_id}`;
      byDeviceCve.set(k, (byDeviceCve.get(k) ?? new Set()).add(r.bundle_id));
    }
    expect([...byDeviceCve.values()].some((s) => s.size > 1)).toBe(true);
  });

  it('the same seed gives the same rows', async () => {
    const other = await KandjiSimulator.start({ tokens: [TOKEN], seed: 11, detections: { count: 700 } });
    try {
      const strip = (r: DetectionRow): unknown => ({ ...r, detection_datetime: undefined });
      expect(other.detections.all().map(strip)).toEqual(sim.detections.all().map(strip));
    } finally {
      await other.stop();
    }
  });

  it('paging with size: raw cursor next, every row once in identity order', async () => {
    const { rows, pages, nexts } = await sweepDetections(sim, { size: '100' });
    expect(pages).toEqual([100, 100, 100, 100, 100, 100, 100]);
    expect(rows.map(detectionIdentity)).toEqual(sim.detections.identities());
    for (const n of nexts) {
      expect(n).not.toMatch(/^https?:/);
      expect(n).toMatch(/^[A-Za-z0-9_-]+$/);
    }
  });

  it('paging with limit; size and limit clamp to 300; size wins over limit; default 300', async () => {
    const byLimit = await sweepDetections(sim, { limit: '250' });
    expect(byLimit.pages).toEqual([250, 250, 200]);
    expect(byLimit.rows.map(detectionIdentity)).toEqual(sim.detections.identities());
    expect((await sweepDetections(sim, { limit: '1000' })).pages).toEqual([300, 300, 100]);
    expect((await sweepDetections(sim, { size: '5000' })).pages).toEqual([300, 300, 100]);
    expect((await sweepDetections(sim, {})).pages).toEqual([300, 300, 100]);
    expect((await sweepDetections(sim, { size: '350', limit: '10' })).pages).toEqual([300, 300, 100]);
    const bad = await getJson(`${sim.url}${DETECTIONS_PATH}?size=abc`);
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('size');
  });

  it('detectionsNextAsUrl: next is a full URL with after= that can be followed as is', async () => {
    sim.setDetectionsNextAsUrl(true);
    const first = await getJson(`${sim.url}${DETECTIONS_PATH}?size=300`);
    const next = new URL(first.body.next);
    expect(`${next.protocol}//${next.host}${next.pathname}`).toBe(`${sim.url}${DETECTIONS_PATH}`);
    expect(next.searchParams.get('size')).toBe('300');
    expect(next.searchParams.get('after')).toBeTruthy();
    const ids: string[] = first.body.results.map(detectionIdentity);
    let url: string | null = first.body.next;
    while (url) {
      const { body } = await getJson(url);
      ids.push(...body.results.map(detectionIdentity));
      url = body.next;
    }
    expect(ids).toEqual(sim.detections.identities());
  });

  it('cursor= instead of after= silently returns page 1 again; a bad after is a 400', async () => {
    const first = await getJson(`${sim.url}${DETECTIONS_PATH}?size=50`);
    const again = await getJson(`${sim.url}${DETECTIONS_PATH}?size=50&cursor=${first.body.next}`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const second = await getJson(`${sim.url}${DETECTIONS_PATH}?size=50&after=${first.body.next}`);
    expect(second.body.results[0]).toEqual(sim.detections.all()[50]);
    const bad = await getJson(`${sim.url}${DETECTIONS_PATH}?after=not-a-cursor`);
    expect(bad.status).toBe(400);
    // plain field parameters are ignored, as reported for real tenants
    const ignored = await getJson(`${sim.url}${DETECTIONS_PATH}?size=50&device_id=${first.body.results[0].device_id}`);
    expect(ignored.body).toEqual(first.body);
  });

  it('filter: in on any key, ANDed, paged with the filter resent; invalid JSON is a 400', async () => {
    const all = sim.detections.all();
    const cves = [...new Set(all.map((r) => r.cve_id))].slice(0, 5);
    const filter = JSON.stringify({ cve_id: { in: cves } });
    const want = all.filter((r) => cves.includes(r.cve_id)).map(detectionIdentity);
    expect(want.length).toBeGreaterThan(5);
    const got = await sweepDetections(sim, { size: '4', filter });
    expect(got.rows.map(detectionIdentity)).toEqual(want);

    const nulls = await sweepDetections(sim, {
      filter: JSON.stringify({ bundle_id: { in: [null] }, severity: { in: ['High', 'Critical'] } }),
    });
    expect(nulls.rows.length).toBeGreaterThan(0);
    expect(nulls.rows.length).toBe(
      all.filter((r) => r.bundle_id === null && ['High', 'Critical'].includes((r as any).severity)).length,
    );
    // the legacy name matches the current field too, numbers match as numbers or strings
    const score = (all[0] as DetectionRow).cvss_score;
    const legacyName = await sweepDetections(sim, {
      filter: JSON.stringify({
        cvss_score: { in: [String(score)] },
        cvss_severity: { in: [(all[0] as any).severity] },
      }),
    });
    expect(legacyName.rows.length).toBe(all.filter((r) => r.cvss_score === score).length);

    const bad = await getJson(`${sim.url}${DETECTIONS_PATH}?filter=${encodeURIComponent('{"cve_id":')}`);
    expect(bad.status).toBe(400);
    expect(bad.res.headers.get('content-type')).toContain('application/json');
    expect(typeof bad.body.detail).toBe('string');
    expect(
      (await getJson(`${sim.url}${DETECTIONS_PATH}?filter=${encodeURIComponent('{"nope":{"in":[1]}}')}`)).status,
    ).toBe(400);
    expect(
      (await getJson(`${sim.url}${DETECTIONS_PATH}?filter=${encodeURIComponent('{"cve_id":{"gte":"x"}}')}`)).status,
    ).toBe(400);
  });

  it('churn between pages: rows present for the whole sweep are seen exactly once', async () => {
    const churny = await KandjiSimulator.start({ tokens: [TOKEN], seed: 5, detections: { count: 1000 } });
    try {
      const initial = new Set(churny.detections.identities());
      const everRemoved = new Set<string>();
      const added = new Set<string>();
      let comebacks = 0;
      const { rows } = await sweepDetections(churny, { size: '60' }, () => {
        const c = churny.detections.randomChurn({ add: 25, remove: 25 });
        for (const r of c.removed) everRemoved.add(detectionIdentity(r));
        for (const r of c.added) {
          const id = detectionIdentity(r);
          if (everRemoved.has(id)) comebacks++;
          added.add(id);
        }
      });
      const seen = rows.map(detectionIdentity);
      expect(new Set(seen).size).toBe(seen.length); // nothing twice
      const stable = [...initial].filter((id) => !everRemoved.has(id));
      const seenSet = new Set(seen);
      for (const id of stable) expect(seenSet.has(id)).toBe(true);
      expect(stable.length).toBeGreaterThan(500);
      expect(everRemoved.size).toBeGreaterThan(200);
      expect(comebacks).toBeGreaterThan(0); // removed rows do come back
      for (const id of seen) expect(initial.has(id) || added.has(id)).toBe(true);
    } finally {
      await churny.stop();
    }
  });

  it('store mutations: add (upsert) and remove', () => {
    const store = sim.detections;
    const before = store.size;
    const row = store.all()[3] as DetectionRow;
    const id = detectionIdentity(row);
    expect(store.remove([id, 'no|such|row']).map(detectionIdentity)).toEqual([id]);
    expect(store.has(id)).toBe(false);
    expect(store.size).toBe(before - 1);
    expect(store.add([row])).toBe(1);
    expect(store.add([{ ...row, version: '9.9.9' }])).toBe(0); // same identity: replaced
    expect(store.get(id)?.version).toBe('9.9.9');
    store.add([row]);
    expect(store.size).toBe(before);
    expect(store.all()[3]).toEqual(row);
  });

  it('legacy and mixed field sets', async () => {
    const legacy = await KandjiSimulator.start({ tokens: [TOKEN], detections: { count: 50, fieldSet: 'legacy' } });
    const mixed = await KandjiSimulator.start({ tokens: [TOKEN], detections: { count: 200, fieldSet: 'mixed' } });
    try {
      const { body } = await getJson(`${legacy.url}${DETECTIONS_PATH}`);
      expect(body.results).toHaveLength(50);
      for (const r of body.results) {
        expect(Object.keys(r)).toEqual(
          expect.arrayContaining(['cve_description', 'cvss_severity', 'first_detection_date', 'latest_detection_date']),
        );
        expect(r).not.toHaveProperty('description');
        expect(r.first_detection_date).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
        expect(r.latest_detection_date >= r.first_detection_date).toBe(true);
      }
      const rows = mixed.detections.all();
      const nLegacy = rows.filter(isLegacyDetectionRow).length;
      expect(nLegacy).toBeGreaterThan(20);
      expect(nLegacy).toBeLessThan(180);
    } finally {
      await legacy.stop();
      await mixed.stop();
    }
  });
});

describe('threat-details', () => {
  let sim: KandjiSimulator;
  const now = Date.now();
  beforeAll(async () => {
    sim = await KandjiSimulator.start({
      tokens: [TOKEN],
      seed: 21,
      threats: { count: 1230, from: new Date(now - 90 * DAY_MS), to: new Date(now - 60_000) },
    });
  });
  afterAll(() => sim.stop());

  async function sweep(query: string): Promise<{ records: ThreatRecord[]; pages: ThreatsPage[] }> {
    const records: ThreatRecord[] = [];
    const pages: ThreatsPage[] = [];
    let url: string | null = `${sim.url}${THREAT_DETAILS_PATH}?${query}`;
    while (url) {
      const { status, body } = await getJson(url);
      expect(status).toBe(200);
      pages.push(body);
      records.push(...(body as ThreatsPage).results);
      url = body.next;
      if (pages.length > 200) throw new Error('runaway pagination');
    }
    return { records, pages };
  }

  it('records look like real threat details: naive timestamps, "" for unset dates, nulls for departed devices', () => {
    const all = sim.threats.all();
    expect(all).toHaveLength(1230);
    expect(new Set(all.map(threatIdentity)).size).toBe(1230);
    for (const t of all) {
      expect(t.detection_date).toMatch(NAIVE_TIMESTAMP_RE);
      expect(t.date_of_quarantine === '' || NAIVE_TIMESTAMP_RE.test(t.date_of_quarantine)).toBe(true);
      expect(t.date_of_release === '' || NAIVE_TIMESTAMP_RE.test(t.date_of_release)).toBe(true);
      expect(t.file_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(['MALWARE', 'PUP']).toContain(t.classification);
      expect(t.status === 'RELEASED').toBe(t.date_of_release !== '');
      if (t.status === 'NOT_QUARANTINED') expect(t.date_of_quarantine).toBe('');
    }
    expect(new Set(all.map((t) => t.status))).toEqual(new Set(['QUARANTINED', 'NOT_QUARANTINED', 'RELEASED']));
    const departed = all.filter((t) => t.device_name === '');
    expect(departed.length).toBeGreaterThan(0);
    for (const t of departed) {
      expect(t).toMatchObject({
        device_serial_number: null,
        blueprint_id: null,
        library_item_id: null,
        pup_posture: null,
        malware_posture: null,
      });
    }
    expect(all.some((t) => t.bundle_path.endsWith('.app'))).toBe(true);
  });

  it('offset paging: default order is newest first; next is a full URL; limit max 1000', async () => {
    const { records, pages } = await sweep('limit=100');
    expect(pages.map((p) => p.results.length)).toEqual([...Array(12).fill(100), 30]);
    expect(pages[0]!.previous).toBeNull();
    expect(pages[0]).toMatchObject({ count: 1230 });
    expect(pages[0]!.malware_count + pages[0]!.pup_count).toBe(1230);
    const next = new URL(pages[0]!.next!);
    expect(next.searchParams.get('offset')).toBe('100');
    expect(next.searchParams.get('limit')).toBe('100');
    expect(new URL(pages[2]!.previous!).searchParams.get('offset')).toBe('100');
    expect(new URL(pages[1]!.previous!).searchParams.has('offset')).toBe(false);
    expect(records.map(threatIdentity)).toEqual(sim.threats.all().map(threatIdentity).reverse());

    const big = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?limit=5000`);
    expect(big.body.results).toHaveLength(1000);
    expect(new URL(big.body.next).searchParams.get('offset')).toBe('1000');
    const dflt = await getJson(`${sim.url}${THREAT_DETAILS_PATH}`);
    expect(dflt.body.results).toHaveLength(1000);
  });

  it('sort_by ascending, descending and on other fields; invalid sort_by is a 400', async () => {
    const asc = await sweep('limit=1000&sort_by=detection_date');
    expect(asc.records.map(threatIdentity)).toEqual(sim.threats.all().map(threatIdentity));
    const desc = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?limit=50&sort_by=-detection_date`);
    const dates: string[] = desc.body.results.map((t: ThreatRecord) => t.detection_date);
    expect(dates).toEqual([...dates].sort().reverse());
    const byName = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?limit=1000&sort_by=-threat_name`);
    const names: string[] = byName.body.results.map((t: ThreatRecord) => t.threat_name);
    expect(names).toEqual([...names].sort().reverse());
    expect((await getJson(`${sim.url}${THREAT_DETAILS_PATH}?sort_by=file_hash`)).status).toBe(400);
  });

  it('filters: classification, status, device_id, term, date_range', async () => {
    const all = sim.threats.all();
    const pup = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?classification=pup&limit=1000`);
    const nPup = all.filter((t) => t.classification === 'PUP').length;
    expect(pup.body.count).toBe(nPup);
    expect(pup.body.pup_count).toBe(nPup);
    expect(pup.body.malware_count).toBe(1230 - nPup);
    expect(pup.body.results.every((t: ThreatRecord) => t.classification === 'PUP')).toBe(true);

    const notQ = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?status=not_quarantined&limit=1000`);
    expect(notQ.body.count).toBe(all.filter((t) => t.status === 'NOT_QUARANTINED').length);

    const dev = (all[0] as ThreatRecord).device_id;
    const byDevice = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?device_id=${dev}&limit=1000`);
    expect(byDevice.body.count).toBe(all.filter((t) => t.device_id === dev).length);

    const hash = (all[5] as ThreatRecord).file_hash.slice(10, 30);
    const byTerm = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?term=${hash.toUpperCase()}&limit=1000`);
    expect(byTerm.body.count).toBe(all.filter((t) => t.file_hash.includes(hash)).length);
    const byPath = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?term=cleanmydisk&limit=1000`);
    expect(byPath.body.count).toBe(all.filter((t) => t.file_path.toLowerCase().includes('cleanmydisk')).length);

    const week = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?date_range=7&limit=1000`);
    const since = BigInt(Date.now() - 7 * DAY_MS) * 1000n;
    const expected = all.filter((t) => naiveToMicros(t.detection_date)! >= since).length;
    expect(expected).toBeGreaterThan(30);
    expect(expected).toBeLessThan(300);
    expect(Math.abs(week.body.count - expected)).toBeLessThanOrEqual(1); // the clock moved between the two
    for (const t of week.body.results as ThreatRecord[])
      expect(naiveToMicros(t.detection_date)! >= since - 60_000_000n).toBe(true);

    for (const q of ['classification=virus', 'status=deleted', 'date_range=abc', 'date_range=0']) {
      const bad = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?${q}`);
      expect(bad.status).toBe(400);
      expect(typeof bad.body.detail).toBe('string');
    }
  });

  it('a status change is visible: QUARANTINED -> RELEASED sets release fields', async () => {
    const target = sim.threats.all().find((t) => t.status === 'QUARANTINED')!;
    const updated = sim.threats.changeStatus({ device_id: target.device_id, file_hash: target.file_hash }, 'RELEASED', {
      releasedBy: 'maria.garcia@example.com',
      releaseNote: 'ok',
    });
    expect(threatIdentity(updated)).toBe(threatIdentity(target));
    const { body } = await getJson(
      `${sim.url}${THREAT_DETAILS_PATH}?status=released&device_id=${target.device_id}&limit=1000`,
    );
    const got = (body.results as ThreatRecord[]).find((t) => threatIdentity(t) === threatIdentity(target))!;
    expect(got).toMatchObject({
      status: 'RELEASED',
      released_by: 'maria.garcia@example.com',
      release_note: 'ok',
      date_of_quarantine: target.date_of_quarantine,
    });
    expect(got.date_of_release).toMatch(NAIVE_TIMESTAMP_RE);
    // and back, by identity
    const back = sim.threats.changeStatus(threatIdentity(target), 'QUARANTINED');
    expect(back).toMatchObject({ status: 'QUARANTINED', date_of_release: '', released_by: '', release_note: '' });
    expect(() => sim.threats.changeStatus('no|such', 'RELEASED')).toThrow();
  });

  it('inserts between offset pages shift the window: the next page repeats records', async () => {
    const p1 = await getJson(`${sim.url}${THREAT_DETAILS_PATH}?limit=10`);
    const added = sim.threats.add(3);
    for (const t of added) expect(t.detection_date).toMatch(NAIVE_TIMESTAMP_RE);
    const p2 = await getJson(p1.body.next);
    expect(p2.body.count).toBe(p1.body.count + 3);
    const ids1 = (p1.body.results as ThreatRecord[]).map(threatIdentity);
    const ids2 = (p2.body.results as ThreatRecord[]).map(threatIdentity);
    expect(ids2.slice(0, 3)).toEqual(ids1.slice(7)); // newest-first order: 3 inserts push 3 records onto page 2
  });
});

describe('late audit events', () => {
  it('lateFraction 1: live events appear with an occurred_at before what was already served', async () => {
    const sim = await KandjiSimulator.start({ tokens: [TOKEN], seed: 3 });
    try {
      sim.audit.appendLate(0);
      const first = await getJson(`${sim.url}${EVENTS}?limit=1`);
      expect(first.body.results).toHaveLength(1);
      const servedMax: string = first.body.results[0].occurred_at;
      sim.audit.startLive({ perSecond: 100, tieFraction: 0, lateFraction: 1, maxLateMs: 20_000 });
      await new Promise((r) => setTimeout(r, 450));
      sim.audit.stopLive();
      const late = sim.audit.all().filter((r) => r.occurred_at < servedMax);
      expect(late.length).toBeGreaterThan(10);
      expect(sim.audit.size).toBe(late.length + 1);
      for (const r of late) {
        expect(r.occurred_at).toMatch(OCCURRED_AT_RE);
        expect(Date.parse(r.occurred_at)).toBeGreaterThanOrEqual(Date.parse(servedMax) - 21_000);
      }
      // still (occurred_at, id) order
      const all = sim.audit.all();
      for (let i = 1; i < all.length; i++) {
        const a = all[i - 1]!;
        const b = all[i]!;
        expect(a.occurred_at < b.occurred_at || (a.occurred_at === b.occurred_at && a.id < b.id)).toBe(true);
      }
      // a reader resuming from its cursor never sees them; re-reading an overlap window does
      const resumed = await getJson(first.body.next);
      expect(resumed.body.results).toEqual([]);
      const overlap = new Date(Date.parse(servedMax) - 30_000).toISOString();
      const reread = await getJson(`${sim.url}${EVENTS}?start_date=${overlap}`);
      expect(reread.body.results.map((r: AuditRecord) => r.id)).toEqual(all.map((r) => r.id));
    } finally {
      await sim.stop();
    }
  });

  it('lateFraction 0 keeps live events on time; appendLate inserts in order', async () => {
    const sim = await KandjiSimulator.start({ tokens: [TOKEN], seed: 4 });
    try {
      sim.audit.startLive({ perSecond: 100, lateFraction: 0 });
      await new Promise((r) => setTimeout(r, 250));
      sim.audit.stopLive();
      const n = sim.audit.size;
      expect(n).toBeGreaterThan(5);
      const rec = sim.audit.appendLate(10_000, { targetType: 'file_detection' });
      expect(rec['target_type']).toBe('file_detection');
      expect(sim.audit.all()[0]).toEqual(rec);
      expect(sim.audit.size).toBe(n + 1);
      expect(() => sim.audit.startLive({ perSecond: 1, lateFraction: 2 })).toThrow(RangeError);
    } finally {
      await sim.stop();
    }
  });
});

describe('shared behaviour of the new endpoints', () => {
  it('a feature turned off answers the HTML 404 page', async () => {
    const sim = await KandjiSimulator.start({
      tokens: [TOKEN],
      features: { detections: false },
      threats: { count: 3, from: new Date(0), to: new Date() },
    });
    try {
      const off = await getJson(`${sim.url}${DETECTIONS_PATH}`);
      expect(off.status).toBe(404);
      expect(off.res.headers.get('content-type')).toContain('text/html');
      expect(off.body).toContain('<h1>Not Found</h1>');
      expect((await getJson(`${sim.url}${THREAT_DETAILS_PATH}`)).status).toBe(200);
      sim.setFeatures({ threats: false, detections: true });
      expect(sim.enabledFeatures).toEqual({ detections: true, threats: false, behavioralDetections: true });
      expect((await getJson(`${sim.url}${THREAT_DETAILS_PATH}`)).status).toBe(404);
      const on = await getJson(`${sim.url}${DETECTIONS_PATH}`);
      expect(on.status).toBe(200);
      expect(on.body).toEqual({ next: null, previous: null, results: [] });
      expect((await getJson(`${sim.url}${EVENTS}`)).status).toBe(200);
    } finally {
      await sim.stop();
    }
  });

  it('401, one rate limit across all endpoints, faults and request recording', async () => {
    const sim = await KandjiSimulator.start({ tokens: [TOKEN], requestsPerHour: 3, detections: { count: 5 } });
    try {
      for (const path of [DETECTIONS_PATH, THREAT_DETAILS_PATH]) {
        const unauth = await getJson(`${sim.url}${path}`, {});
        expect(unauth.status).toBe(401);
        expect(unauth.body).toEqual({ detail: 'Authentication credentials were not provided.' });
      }
      expect((await getJson(`${sim.url}${EVENTS}`)).status).toBe(200);
      expect((await getJson(`${sim.url}${DETECTIONS_PATH}`)).status).toBe(200);
      expect((await getJson(`${sim.url}${THREAT_DETAILS_PATH}`)).status).toBe(200);
      for (const path of [EVENTS, DETECTIONS_PATH, THREAT_DETAILS_PATH]) {
        const limited = await getJson(`${sim.url}${path}`);
        expect(limited.status).toBe(429);
        expect(Number(limited.res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(sim.requestCount((r) => r.status === 429)).toBe(3);
      expect(sim.requestCount((r) => r.path === DETECTIONS_PATH)).toBe(3);
      expect(sim.requests.find((r) => r.path === THREAT_DETAILS_PATH && r.status === 200)).toMatchObject({
        authorized: true,
        method: 'GET',
      });

      sim.resetRateLimit();
      sim.setRequestsPerHour(100);
      sim.setFaults({ rate: 1, kinds: ['malformed_json'] });
      const res = await fetch(`${sim.url}${DETECTIONS_PATH}`, { headers: AUTH });
      expect(res.status).toBe(200);
      await expect(res.json()).rejects.toThrow();
      expect(sim.requests[sim.requests.length - 1]).toMatchObject({ path: DETECTIONS_PATH, fault: 'malformed_json' });
      sim.setFaults({ rate: 0 });
    } finally {
      await sim.stop();
    }
  });
});
