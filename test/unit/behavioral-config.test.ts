/** Configuration of the behavioral-detections stream: opt-in, its window of days, its timings. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTenantConfig, loadWorkerConfig } from '../../src/config/env';
import { configuredTimings } from '../../src/streams/stream-control';

const base = { KANDJI_API_URL: 'https://acme.api.kandji.io', KANDJI_API_TOKEN: 't', DD_API_KEY: 'k' };

describe('behavioral-detections configuration', () => {
  it('is opt-in: named in KANDJI_STREAMS, not run by default', () => {
    expect(loadTenantConfig(base).streams).not.toContain('behavioral-detections');
    expect(loadTenantConfig({ ...base, KANDJI_STREAMS: 'audit,behavioral-detections' }).streams).toEqual([
      'audit',
      'behavioral-detections',
    ]);
  });

  it('reads a window of 7 days by default, KANDJI_BEHAVIORAL_WINDOW_DAYS otherwise, whole days from 1 to 365', () => {
    expect(loadTenantConfig(base).behavioralWindowDays).toBe(7);
    expect(loadTenantConfig({ ...base, KANDJI_BEHAVIORAL_WINDOW_DAYS: '30' }).behavioralWindowDays).toBe(30);
    for (const bad of ['0', '1.5', 'week', '400'])
      expect(() => loadTenantConfig({ ...base, KANDJI_BEHAVIORAL_WINDOW_DAYS: bad })).toThrow(
        /KANDJI_BEHAVIORAL_WINDOW_DAYS/,
      );
  });

  it("takes a tenant's own window and poll interval from the tenants file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-bd-'));
    const file = path.join(dir, 'tenants.yaml');
    fs.writeFileSync(
      file,
      'tenants:\n  - name: acme\n    apiUrl: https://acme.api.kandji.io\n    token: { env: ACME_TOKEN }\n' +
        '    streams: [audit, behavioral-detections]\n    behavioralWindowDays: 3\n' +
        '    pollIntervals: { behavioral-detections: 2m }\n',
    );
    const [tenant] = loadWorkerConfig({ KANDJI_TENANTS_FILE: file, DD_API_KEY: 'k' }).tenants;
    expect(tenant!.config.behavioralWindowDays).toBe(3);
    expect(tenant!.config.pollIntervalsMs['behavioral-detections']).toBe(120_000);
  });

  it('re-checks an unlicensed tenant at most daily; the other streams keep KANDJI_AUTH_RECHECK_INTERVAL', () => {
    const c = loadTenantConfig(base);
    expect(configuredTimings(c, 'behavioral-detections').unavailableRecheckMs).toBe(86_400_000);
    expect(configuredTimings(c, 'threats').unavailableRecheckMs).toBeUndefined();
  });
});
