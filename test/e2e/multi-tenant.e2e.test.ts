/**
 * Many tenants on one worker (KANDJI_TENANTS_FILE): one tenant's broken token leaves the other unaffected.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatadogSimulator } from '../../simulators/datadog';
import { KandjiSimulator } from '../../simulators/kandji';
import { type ConfigError } from '../../src/config/config-error';
import { loadWorkerConfig } from '../../src/config/env';
import { loadTenantsFile } from '../../src/config/tenants-file';
import { streamReport } from '../../src/streams/stream-control';
import { FailureType } from '../../workflows/shared/failure-types';
import { startTenantsWorker } from '../helpers/tenants-worker';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;

function writeTemp(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-tenants-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('tenants file', () => {
  it('reads YAML with tokens from env or file, and names the tenant and field of every error', () => {
    const tokenFile = writeTemp('token', 'file-token\n');
    const yaml = writeTemp(
      'tenants.yaml',
      `tenants:\n  - name: acme\n    apiUrl: https://acme.api.kandji.io\n    token: { env: ACME_TOKEN }\n    streams: [audit]\n    pollIntervals: { audit: 30s }\n    tags: [team:secops]\n  - name: globex\n    apiUrl: https://globex.api.eu.kandji.io\n    token: { file: ${tokenFile} }\n    requestsPerHour: 2000\n`,
    );
    const c = loadWorkerConfig({ KANDJI_TENANTS_FILE: yaml, ACME_TOKEN: 'env-token', DD_API_KEY: 'k' });
    const tokenOf = (t: (typeof c.tenants)[number]) => (typeof t.token === 'function' ? t.token() : t.token);
    expect(c.tenants.map((t) => [t.config.tenant, tokenOf(t), t.config.streams, t.config.requestsPerHour])).toEqual([
      ['acme', 'env-token', ['audit'], 5_000],
      ['globex', 'file-token', ['audit', 'detections'], 2_000],
    ]);
    expect(c.tenants[0]!.config.pollIntervalsMs.audit).toBe(30_000);
    expect(c.tenants[0]!.config.extraTags).toEqual(['team:secops']);

    const bad = writeTemp(
      'bad.json',
      JSON.stringify({
        tenants: [
          { name: 'acme', apiUrl: 'http://acme.example.com', token: { env: 'X' } },
          {
            name: 'globex',
            apiUrl: 'https://globex.api.kandji.io',
            token: 'the-token-itself',
            streams: ['audit', 'devices'],
          },
        ],
      }),
    );
    let err: ConfigError | undefined;
    try {
      loadWorkerConfig({ KANDJI_TENANTS_FILE: bad, DD_API_KEY: 'k' });
    } catch (e) {
      err = e as ConfigError;
    }
    const text = err!.problems.join('\n');
    expect(text).toMatch(/tenant "globex": token: expected \{ env: VARIABLE_NAME \} or \{ file: \/path\/to\/token \}/);
    expect(text).toMatch(/tenant "globex": streams\.1:/);
    expect(text).not.toContain('the-token-itself');
    const badUrl = writeTemp(
      'url.json',
      JSON.stringify({ tenants: [{ name: 'acme', apiUrl: 'http://acme.example.com', token: { env: 'X' } }] }),
    );
    expect(() => loadWorkerConfig({ KANDJI_TENANTS_FILE: badUrl, X: 'tok', DD_API_KEY: 'k' })).toThrow(
      /tenant "acme": apiUrl: must be https/,
    );
    expect(() => loadTenantsFile('/nonexistent/tenants.yaml')).toThrow(/cannot read/);
  });
});

describe('two tenants on one worker', () => {
  it('keeps shipping one tenant while the other has a broken token', async () => {
    const now = Date.now();
    const backlog = { count: 400, from: new Date(now - HOUR), to: new Date(now - 60_000) };
    const acme = await KandjiSimulator.start({ tokens: ['acme-token'], backlog, seed: 101 });
    const globex = await KandjiSimulator.start({ tokens: ['globex-token'], backlog, seed: 102 });
    const datadog = await DatadogSimulator.start({ apiKeys: ['dd-key'] });
    const suffix = randomUUID().slice(0, 6);
    const file = writeTemp(
      'tenants.json',
      JSON.stringify({
        tenants: [
          {
            name: `acme-${suffix}`,
            apiUrl: acme.url,
            token: { env: 'ACME_TOKEN' },
            streams: ['audit'],
            pollIntervals: { audit: '1s' },
          },
          {
            name: `globex-${suffix}`,
            apiUrl: globex.url,
            token: { env: 'GLOBEX_TOKEN' },
            streams: ['audit'],
            pollIntervals: { audit: '1s' },
          },
        ],
      }),
    );
    const w = await startTenantsWorker({
      KANDJI_TENANTS_FILE: file,
      ACME_TOKEN: 'acme-token',
      GLOBEX_TOKEN: 'revoked-token',
      DD_API_KEY: 'dd-key',
      DD_LOGS_URL: datadog.intakeUrl,
    });
    try {
      await w.startAudits(new Date(now - 2 * HOUR).toISOString());
      const [a, g] = w.config.tenants.map((t) => t.config.tenant) as [string, string];
      await waitFor(
        'acme shipped',
        () => datadog.received.filter((i) => String(i.ddtags).includes(`kandji_tenant:${a}`)).length >= 400,
        30_000,
      );
      const gs = await w.waitForAudit(g, 'blocked');
      expect(gs.lastError?.type).toBe(FailureType.KandjiAuth);
      const as = (await streamReport(w.client, a, 'audit')).status!;
      expect(as.state).toBe('caught_up');
      expect(as.lastError).toBeNull();
      expect(datadog.received.some((i) => String(i.ddtags).includes(`kandji_tenant:${g}`))).toBe(false);
    } finally {
      await w.close();
      await Promise.all([acme.stop(), globex.stop(), datadog.stop()]);
    }
  });
});
