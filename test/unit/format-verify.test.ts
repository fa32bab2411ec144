/** What `verify` prints and exits with, and what `status` says of verification without an application key. */
import type { Client } from '@temporalio/client';
import { formatVerifyTable, verifyExitCode } from '../../src/cli/format-verify';
import { verifyCommand, verifyStatusLine } from '../../src/cli/verify';
import type { TemporalConfig } from '../../src/config/env';
import { verifyRow } from '../../workflows/shared/verify-row';
import type { VerifyStreamResult } from '../../workflows/verify-stream';

const result = (...rows: ReturnType<typeof verifyRow>[]): VerifyStreamResult => ({ rows, notClosed: 1 });
const lost = { quota: 0, excluded: 0, stale: 0, lost: 2 };

test('a table per hour: Kandji, Datadog, missing by reason, repaired, result; reasons of inconclusive hours below', () => {
  const text = formatVerifyTable(
    'acme',
    result(
      verifyRow('2026-01-31T06', { kandji: 10, datadog: 10, requests: 1 }),
      verifyRow('2026-01-31T07', {
        kandji: 10,
        datadog: 8,
        missing: lost,
        repaired: 2,
        result: 'repaired',
        requests: 4,
      }),
      verifyRow('2026-01-31T08', { result: 'inconclusive', reason: 'Datadog answered in part (meta.status timeout)' }),
    ),
  );
  expect(text).toMatch(/^HOUR +KANDJI +DATADOG +QUOTA +EXCLUDED +STALE +LOST +REPAIRED +RESULT$/m);
  expect(text).toMatch(/^2026-01-31T07:00Z +10 +8 +0 +0 +0 +2 +2 +repaired$/m);
  expect(text).toContain('2026-01-31T08:00Z inconclusive: Datadog answered in part (meta.status timeout)');
  expect(text).toContain('1 hour(s) of the window not verified');
  expect(text).toContain('Datadog read requests: 5');
});

test('exit code: 1 on an unexplained gap, 3 when an hour could not be verified, 0 when every gap is explained', () => {
  const explained = verifyRow('h1', { result: 'explained', missing: { ...lost, lost: 0, quota: 3 } });
  expect(verifyExitCode(result(verifyRow('h0'), explained, verifyRow('h2', { result: 'repaired' })))).toBe(0);
  expect(verifyExitCode(result(explained, verifyRow('h3', { result: 'inconclusive' })))).toBe(3);
  expect(verifyExitCode(result(verifyRow('h3', { result: 'inconclusive' }), verifyRow('h4', { result: 'gap' })))).toBe(
    1,
  );
});

/** Runs `fn` with DD_APP_KEY and DD_APP_KEY_FILE unset, and a Temporal client that fails the test if used. */
async function withoutAppKey(fn: (client: Client) => Promise<void>): Promise<void> {
  const saved = { key: process.env.DD_APP_KEY, file: process.env.DD_APP_KEY_FILE };
  delete process.env.DD_APP_KEY;
  delete process.env.DD_APP_KEY_FILE;
  try {
    await fn(
      new Proxy({} as Client, {
        get: () => {
          throw new Error('verify asked Temporal');
        },
      }),
    );
  } finally {
    if (saved.key !== undefined) process.env.DD_APP_KEY = saved.key;
    if (saved.file !== undefined) process.env.DD_APP_KEY_FILE = saved.file;
  }
}

test('without DD_APP_KEY, status says verification is off, and asks Temporal nothing', async () => {
  await withoutAppKey(async (client) => {
    expect(await verifyStatusLine(client, 'acme')).toBe(
      '  verify (audit): verification off: no DD_APP_KEY (an application key with logs_read_data)',
    );
  });
});

test('without DD_APP_KEY, verify says verification is off and exits 2 (configuration), starting nothing', async () => {
  await withoutAppKey(async (client) => {
    const lines: string[] = [];
    const window = { from: '2026-01-31T06:00:00Z', to: '2026-01-31T08:00:00Z' };
    expect(await verifyCommand(client, {} as TemporalConfig, 'acme', window, (l) => lines.push(l))).toBe(2);
    expect(lines).toEqual(['acme: verification off: no DD_APP_KEY (an application key with logs_read_data)']);
  });
});
