/** The Kandji simulator's behavioral detections endpoint: shapes, paging, changes between pages, unlicensed tenants. */
import { BEHAVIORAL_DETECTIONS_PATH, KandjiSimulator, type BehavioralRecord } from '../../simulators/kandji';
import { getJson as fetchJson } from '../helpers/http';

const TOKEN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const DAY_MS = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Page {
  total_count: number;
  next: string | null;
  previous: string | null;
  malicious_count: number;
  suspicious_count: number;
  results: BehavioralRecord[];
}

const get = (sim: KandjiSimulator, query: string, headers: Record<string, string> = AUTH) =>
  fetchJson(`${sim.url}${BEHAVIORAL_DETECTIONS_PATH}?${query}`, headers);

describe('behavioral detections', () => {
  let sim: KandjiSimulator;
  const now = Date.now();
  beforeAll(async () => {
    sim = await KandjiSimulator.start({
      tokens: [TOKEN],
      seed: 5,
      behavioralDetections: { count: 1234, from: new Date(now - 20 * DAY_MS), to: new Date(now - 60_000) },
    });
  });
  afterAll(() => sim.stop());
  afterEach(() => {
    sim.beforeBehavioralPage = undefined;
    sim.behavioralMaxLimit = 1000;
  });

  it('answers the documented envelope and record shape, with detection_date in +00:00', async () => {
    const { status, body } = await get(sim, 'limit=3');
    expect(status).toBe(200);
    const page = body as Page;
    expect(Object.keys(page).sort()).toEqual(
      ['malicious_count', 'next', 'previous', 'results', 'suspicious_count', 'total_count'].sort(),
    );
    expect(page.total_count).toBe(1234);
    expect(page.malicious_count + page.suspicious_count).toBe(1234);
    const r = page.results[0]!;
    expect(r.id).toMatch(UUID);
    expect(r.threat_id).toMatch(/^KTI_BD_\d{4}$/);
    expect(r.detection_date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
    expect(['malicious', 'suspicious']).toContain(r.classification);
    expect(['detected', 'informational', 'blocked']).toContain(r.threat_status);
    expect(Object.keys(r.device_info).sort()).toEqual(['id', 'name', 'serial_number']);
    for (const p of [r.parent_process, r.target_process])
      expect(Object.keys(p).sort()).toEqual(['command_line', 'image_path', 'name', 'owner', 'pid', 'sha256']);
    expect(Object.keys(r.library_item).sort()).toEqual(['id', 'mal_posture_mode', 'name']);
    expect(Object.keys(r.blueprint).sort()).toEqual(['id', 'name']);
    expect(Array.isArray(r.informational_tags) && Array.isArray(r.malware_family)).toBe(true);
  });

  it('pages by limit (at most 1000) and offset, sorted by detection_date, within detection_date_from', async () => {
    const from = new Date(now - 10 * DAY_MS).toISOString().slice(0, 10);
    const all: BehavioralRecord[] = [];
    let total = 0;
    for (let offset = 0; ; offset += 1000) {
      const page = (await get(sim, `limit=5000&offset=${offset}&sort_by=detection_date&detection_date_from=${from}`))
        .body as Page;
      expect(page.results.length).toBeLessThanOrEqual(1000);
      total = page.total_count;
      all.push(...page.results);
      if (page.next === null) break;
    }
    expect(all).toHaveLength(total);
    expect(total).toBeLessThan(1234);
    expect(all.every((r) => r.detection_date.slice(0, 10) >= from)).toBe(true);
    const dates = all.map((r) => r.detection_date);
    expect(dates).toEqual([...dates].sort());
    expect((await get(sim, 'sort_by=file_hash')).status).toBe(400);
    expect((await get(sim, 'detection_date_from=yesterday')).status).toBe(400);
  });

  it('lets a test add, remove and change detections between two pages: offsets shift, total_count moves', async () => {
    const before = ((await get(sim, 'limit=20&sort_by=detection_date')).body as Page).results;
    sim.behavioralMaxLimit = 10;
    const gone = before.slice(0, 4).map((r) => r.id);
    const changed = before[5]!.id;
    sim.beforeBehavioralPage = (q) => {
      if (q.offset !== '10') return;
      sim.behavioral.remove(gone);
      sim.behavioral.changeStatus(changed, 'blocked');
    };
    const first = (await get(sim, 'offset=0&limit=1000&sort_by=detection_date')).body as Page;
    expect(first.results).toHaveLength(10);
    const second = (await get(sim, 'offset=10&sort_by=detection_date')).body as Page;
    // The first 4 rows went between the pages: what was at offset 14 is now at 10.
    expect(second.total_count).toBe(first.total_count - 4);
    expect(second.results[0]!.id).toBe(before[14]!.id);
    expect(sim.behavioral.get(changed)!.threat_status).toBe('blocked');
    const [added] = sim.behavioral.add(1, new Date(now - 20 * DAY_MS - 1000));
    const head = (await get(sim, 'offset=0&sort_by=detection_date')).body as Page;
    expect(head.results[0]!.id).toBe(added!.id);
    sim.behavioral.remove([added!.id]);
  });

  it('injects faults on demand like the other endpoints', async () => {
    sim.setFaults({ rate: 1, kinds: ['server_error_html'] });
    try {
      expect([500, 502, 503]).toContain((await get(sim, '')).status);
    } finally {
      sim.setFaults({ rate: 0 });
    }
    expect((await get(sim, '', {})).status).toBe(401);
  });
});

describe('behavioral detections on a tenant without EDR', () => {
  it('answers the HTML 404 by default, or a JSON 403; licensed again, 200', async () => {
    const sim = await KandjiSimulator.start({ tokens: [TOKEN], features: { behavioralDetections: false } });
    try {
      const notFound = await get(sim, '');
      expect(notFound.status).toBe(404);
      expect(notFound.res.headers.get('content-type')).toContain('text/html');
      sim.unlicensedBehavioralStatus = 403;
      const forbidden = await get(sim, '');
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toEqual({ detail: 'You do not have permission to perform this action.' });
      expect((await get(sim, '', {})).status).toBe(401);
      sim.setFeatures({ behavioralDetections: true });
      expect((await get(sim, '')).status).toBe(200);
    } finally {
      await sim.stop();
    }
  });
});
