/**
 * One tenant never stops another: a tenant whose token variable is missing is `blocked` with the reason while the
 * worker serves the others, and a token file rotated on disk is picked up without a restart.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatadogSimulator } from '../../simulators/datadog';
import { KandjiSimulator } from '../../simulators/kandji';
import { streamReport } from '../../src/streams/stream-control';
import { FailureType } from '../../workflows/shared/failure-types';
import { startTenantsWorker } from '../helpers/tenants-worker';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;
const OLD_TOKEN = '11111111-2222-4333-8444-555555555555';
const NEW_TOKEN = '66666666-7777-4888-8999-aaaaaaaaaaaa';

describe('a tenant without its token', () => {
  it('is blocked with the reason while the others ship; a rotated token file is used without restart', async () => {
    const now = Date.now();
    const backlog = { count: 200, from: new Date(now - HOUR), to: new Date(now - 60_000) };
    const acme = await KandjiSimulator.start({ tokens: [OLD_TOKEN], backlog, seed: 111 });
    const globex = await KandjiSimulator.start({ tokens: ['globex-token'], backlog, seed: 112 });
    const datadog = await DatadogSimulator.start({ apiKeys: ['dd-key'] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-isolation-'));
    const tokenFile = path.join(dir, 'acme-token');
    fs.writeFileSync(tokenFile, `${OLD_TOKEN}\n`);
    const suffix = randomUUID().slice(0, 6);
    const file = path.join(dir, 'tenants.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        tenants: [
          {
            name: `acme-${suffix}`,
            apiUrl: acme.url,
            token: { file: tokenFile },
            streams: ['audit'],
            pollIntervals: { audit: '1s' },
          },
          {
            name: `globex-${suffix}`,
            apiUrl: globex.url,
            token: { env: 'GLOBEX_TOKEN_NOT_SET' },
            streams: ['audit'],
            pollIntervals: { audit: '1s' },
          },
        ],
      }),
    );
    // The worker starts although globex's variable is not set.
    const w = await startTenantsWorker({
      KANDJI_TENANTS_FILE: file,
      DD_API_KEY: 'dd-key',
      DD_LOGS_URL: datadog.intakeUrl,
    });
    const [a, g] = w.config.tenants.map((t) => t.config.tenant) as [string, string];
    const shippedOf = (tenant: string) =>
      new Set(datadog.received.filter((i) => String(i.ddtags).includes(`kandji_tenant:${tenant}`)).map((i) => i.id));
    try {
      await w.startAudits(new Date(now - 2 * HOUR).toISOString());
      await waitFor('acme shipped its backlog', () => shippedOf(a).size >= 200, 30_000);
      const gs = await w.waitForAudit(g, 'blocked');
      expect(gs.lastError?.type).toBe(FailureType.KandjiTokenMissing);
      expect(gs.lastError?.message).toContain('environment variable GLOBEX_TOKEN_NOT_SET is not set');
      expect(globex.requests.length).toBe(0); // nothing was sent without a token
      expect(shippedOf(g).size).toBe(0);

      // Rotation: the new token is written to the file and the old one revoked; new events keep flowing.
      fs.writeFileSync(`${tokenFile}.tmp`, `${NEW_TOKEN}\n`);
      fs.renameSync(`${tokenFile}.tmp`, tokenFile); // atomically, as a mounted secret is updated
      acme.setTokens([NEW_TOKEN]);
      acme.audit.startLive({ perSecond: 20 });
      await waitFor('new events arrive', () => acme.audit.size >= 260, 30_000);
      acme.audit.stopLive();
      const total = acme.audit.size;
      await waitFor('acme shipped everything with the rotated token', () => shippedOf(a).size >= total, 60_000);
      expect([...shippedOf(a)].sort()).toEqual(
        acme.audit
          .all()
          .map((r) => r.id)
          .sort(),
      );
      await w.waitForAudit(a, 'caught_up');
      expect((await streamReport(w.client, g, 'audit')).status?.state).toBe('blocked');
    } finally {
      await w.close();
      await Promise.all([acme.stop(), globex.stop(), datadog.stop()]);
    }
  });
});
