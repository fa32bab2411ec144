/** What `verify` prints and exits with, and what `status` says of verification without an application key. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TemporalConfig } from '../../src/config/env';
import { formatVerifyTable, verifyExitCode } from '../../src/processes/cli/format-verify';
import { verifyCommand, verifyStatusLine, verifyStatusLines } from '../../src/processes/cli/verify';
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

/** A Temporal client whose verify workflow ran (or not: `rows` undefined) and answered `rows`. */
function clientOf(rows: ReturnType<typeof verifyRow>[] | undefined): { client: Client } {
  const handle = {
    describe: async () => {
      if (!rows) throw new WorkflowNotFoundError('not found', 'w', undefined);
      return { status: { name: 'COMPLETED' } };
    },
    result: async (): Promise<VerifyStreamResult> => ({ rows: rows ?? [], notClosed: 0 }),
  };
  return { client: { workflow: { getHandle: () => handle, start: async () => handle } } as unknown as Client };
}

const OFF = verifyRow('2026-01-31T06', { result: 'off', reason: 'no DD_APP_KEY on this worker' });
const window = { from: '2026-01-31T06:00:00Z', to: '2026-01-31T08:00:00Z' };

test('a worker without DD_APP_KEY: verify says verification is off and exits 2 (configuration)', async () => {
  const lines: string[] = [];
  const { client } = clientOf([OFF]);
  expect(await verifyCommand(client, { taskQueue: 'q' } as TemporalConfig, 'acme', window, (l) => lines.push(l))).toBe(
    2,
  );
  expect(lines).toEqual([
    'acme: verification off: no DD_APP_KEY (an application key with logs_read_data) on the worker',
  ]);
});

test('status: verification never run says what it needs; off says so; else the last verified hour and totals', async () => {
  expect(await verifyStatusLine(clientOf(undefined).client, 'acme')).toMatch(/never run .*DD_APP_KEY/);
  expect(await verifyStatusLine(clientOf([OFF]).client, 'acme')).toBe(
    '  verify (audit): verification off: no DD_APP_KEY (an application key with logs_read_data) on the worker',
  );
  const done = [verifyRow('2026-01-31T06'), verifyRow('2026-01-31T07', { result: 'gap', missing: lost })];
  expect(await verifyStatusLine(clientOf(done).client, 'acme')).toBe(
    '  verify (audit): last verified hour 2026-01-31T07:00Z; 2 hours: 1 verified, 0 repaired, 0 explained, ' +
      '1 with a gap, 0 inconclusive; 2 events missing',
  );
});

test('several streams: one verify workflow and one table each, exit code the worst of them', async () => {
  const byStream: Record<string, VerifyStreamResult> = {
    'kandji-datadog/acme/audit/verify': result(verifyRow('2026-01-31T06')),
    'kandji-datadog/acme/detections/verify': {
      ...result(verifyRow('2026-01-31T06', { result: 'gap', missing: lost })),
      stream: 'detections',
      undated: 3,
      requests: 7,
    },
  };
  const started: { workflowId: string; args: unknown[] }[] = [];
  const client = {
    workflow: {
      start: async (_wf: unknown, o: { workflowId: string; args: unknown[] }) => {
        started.push(o);
        return { result: async () => byStream[o.workflowId] };
      },
    },
  } as unknown as Client;
  const lines: string[] = [];
  const opts = { ...window, streams: ['audit' as const, 'detections' as const] };
  const code = await verifyCommand(client, { taskQueue: 'q' } as TemporalConfig, 'acme', opts, (l) => lines.push(l));
  expect(code).toBe(1);
  // The audit workflow's input is as it always was (no stream); a snapshot stream's names it.
  expect(started.map((s) => [s.workflowId, s.args[0]])).toEqual([
    ['kandji-datadog/acme/audit/verify', { tenant: 'acme', ...window }],
    ['kandji-datadog/acme/detections/verify', { tenant: 'acme', stream: 'detections', ...window }],
  ]);
  const text = lines.join('\n');
  expect(text).toMatch(/^acme\/audit$/m);
  expect(text).toMatch(/^acme\/detections$/m);
  expect(text).toContain('3 row(s) of the stream have no time of their own');
  expect(text).toMatch(/acme\/detections[\s\S]*Datadog read requests: 7/);
});

test('status: a verify line for each stream the tenant runs', async () => {
  const ids: string[] = [];
  const client = {
    workflow: {
      getHandle: (id: string) => {
        ids.push(id);
        return clientOf(undefined).client.workflow.getHandle(id);
      },
    },
  } as unknown as Client;
  const lines = await verifyStatusLines(client, 'acme', ['audit', 'threats']);
  expect(ids).toEqual(['kandji-datadog/acme/audit/verify', 'kandji-datadog/acme/threats/verify']);
  expect(lines[1]).toMatch(/^ {2}verify \(threats\): never run \(npm run -s cli -- verify threats/);
});
