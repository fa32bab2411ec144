/**
 * `start` means "running as configured", run as the compose one-shot and the Kubernetes Job run it (the CLI, in its
 * own process, on every deploy): a stream an operator stopped stays stopped unless named; `--since` never silently
 * replaces a recorded cursor; a running stream gets the configured timings, kept across continue-as-new.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { configuredTimings, stopStream } from '../../src/streams/stream-control';
import { auditStream } from '../../workflows/audit-stream';
import { initialAuditCursor } from '../../workflows/shared/audit-cursor';
import { timestampKey } from '../../workflows/shared/timestamps';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const run = promisify(execFile);
const HOUR = 3_600_000;
const ROOT = path.resolve(__dirname, '../..');

describe('start, as every deploy runs it', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  /** `npm run -s cli -- <args>` with this harness's configuration (and `env` on top); its output and exit code. */
  async function cli(args: string[], env: Record<string, string> = {}): Promise<{ out: string; code: number }> {
    try {
      const r = await run(
        process.execPath,
        [require.resolve('tsx/cli'), path.join(ROOT, 'src/processes/cli/main.ts'), ...args],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            TEMPORAL_ADDRESS: h.temporal.address,
            TEMPORAL_TASK_QUEUE: h.temporal.taskQueue,
            KANDJI_API_URL: h.kandji.url,
            KANDJI_TENANT: h.tenant,
            KANDJI_STREAMS: 'audit,detections',
            KANDJI_POLL_INTERVAL: '1s',
            KANDJI_DETECTIONS_POLL_INTERVAL: '1s',
            KANDJI_AUTH_RECHECK_INTERVAL: '2s',
            KANDJI_ERROR_BACKOFF: '1s',
            KANDJI_START_DATE: new Date(Date.now() - 2 * HOUR).toISOString(),
            ...env,
          },
        },
      );
      return { out: r.stdout + r.stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      return { out: `${e.stdout ?? ''}${e.stderr ?? ''}`, code: e.code ?? -1 };
    }
  }

  const execution = async (name: 'audit' | 'detections') => (await h.handle(name).describe()).status.name;
  const line = (out: string, name: string) => out.split('\n').find((l) => l.includes(`/${name}:`)) ?? '';

  it('leaves a stream an operator stopped or terminated stopped when no stream is named, and says so; naming it starts it', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 50, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 71 },
    });
    await h.startWorker();
    expect((await cli(['start'])).code).toBe(0);
    await h.waitForState('caught_up', 'audit', 30_000);
    await h.sweeps('detections', 1);

    expect(await stopStream(h.client, h.tenant, 'audit')).toBe('stopped');
    let r = await cli(['start']);
    expect(r.code).toBe(0);
    expect(line(r.out, 'audit')).toMatch(
      /left stopped: an operator stopped it \(its last run completed at .*start audit/,
    );
    expect(line(r.out, 'detections')).toMatch(/already running/);
    expect(await execution('audit')).toBe('COMPLETED');

    // A terminate is an operator's act too.
    await h.handle('detections').terminate('operator');
    r = await cli(['start']);
    expect(line(r.out, 'detections')).toMatch(/left stopped: .*its last run terminated/);
    expect(line(r.out, 'audit')).toMatch(/left stopped/);
    expect(await execution('detections')).toBe('TERMINATED');
    expect(await execution('audit')).toBe('COMPLETED');

    // Named, it starts, from where it stopped.
    r = await cli(['start', 'audit']);
    expect(line(r.out, 'audit')).toMatch(/started, resuming at .* from the completed run's result/);
    expect(await execution('audit')).toBe('RUNNING');
    expect(await execution('detections')).toBe('TERMINATED');
  }, 180_000);

  it('starts a stream whose last run timed out: nobody stopped it', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 20, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 74 },
    });
    await h.startWorker();
    const timings = configuredTimings(h.tenantConfig, 'audit');
    const input = { tenant: h.tenant, cursor: initialAuditCursor(new Date(now - 2 * HOUR).toISOString()), timings };
    await h.client.workflow.start(auditStream, {
      workflowId: streamWorkflowId(h.tenant, 'audit'),
      taskQueue: h.temporal.taskQueue,
      args: [input],
      workflowExecutionTimeout: '3s',
    });
    await waitFor('the run timed out', async () => (await execution('audit')) === 'TIMED_OUT', 30_000);
    const r = await cli(['start']);
    expect(line(r.out, 'audit')).toMatch(/started, resuming at .* from the timed_out run's/);
    expect(await execution('audit')).toBe('RUNNING');
  }, 120_000);

  it('refuses --since over a recorded cursor, naming it and --override-cursor; with the flag starts from --since', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 100, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 72 },
    });
    await h.startWorker();
    expect((await cli(['start', 'audit'])).code).toBe(0);
    await waitFor('backlog shipped', () => h.datadog.received.length >= 100, 30_000);
    const recorded = (await h.waitForState('caught_up', 'audit', 30_000)).cursor.since;
    expect(await stopStream(h.client, h.tenant, 'audit')).toBe('stopped');

    const since = h.kandji.audit.all()[59]!.occurred_at;
    let r = await cli(['start', 'audit', '--since', since]);
    expect(r.code).toBe(2);
    expect(line(r.out, 'audit')).toContain(`not started: it has a recorded cursor at ${recorded}`);
    expect(line(r.out, 'audit')).toContain('--override-cursor');
    expect(await execution('audit')).toBe('COMPLETED');
    expect(h.datadog.received).toHaveLength(100);

    r = await cli(['start', 'audit', '--since', since, '--override-cursor']);
    expect(r.code).toBe(0);
    expect(line(r.out, 'audit')).toContain(`started from ${timestampKey(since)}`);
    expect(line(r.out, 'audit')).toContain(`the recorded cursor ${recorded} is replaced`);
    // A rewind: the events from --since on are shipped again, and only those.
    const again = h.kandji.audit.all().filter((e) => timestampKey(e.occurred_at) >= timestampKey(since)).length;
    await waitFor('events from --since shipped again', () => h.datadog.received.length >= 100 + again, 30_000);
    await h.waitForState('caught_up', 'audit', 30_000);
    expect(h.datadog.received).toHaveLength(100 + again);
  }, 180_000);

  it('applies changed timings to a running stream (printed), "unchanged" when nothing changed, kept across continue-as-new', async () => {
    h = await Harness.start({ kandji: { seed: 73 } });
    await h.startWorker();
    expect((await cli(['start', 'audit'])).code).toBe(0);
    const first = await h.waitForState('caught_up', 'audit', 30_000);
    expect(first.pollIntervalMs).toBe(1_000);

    let r = await cli(['start', 'audit'], { KANDJI_POLL_INTERVAL: '500ms', KANDJI_ERROR_BACKOFF: '3s' });
    expect(r.code).toBe(0);
    expect(line(r.out, 'audit')).toMatch(
      /already running .*timings applied: pollIntervalMs 1000 → 500, errorBackoffMs 1000 → 3000$/,
    );
    expect((await h.status()).pollIntervalMs).toBe(500);

    r = await cli(['start', 'audit'], { KANDJI_POLL_INTERVAL: '500ms', KANDJI_ERROR_BACKOFF: '3s' });
    expect(line(r.out, 'audit')).toMatch(/timings unchanged$/);
    // --since does not move a running stream, and says so.
    r = await cli(['start', 'audit', '--since', new Date(Date.now() - HOUR).toISOString()], {
      KANDJI_POLL_INTERVAL: '500ms',
      KANDJI_ERROR_BACKOFF: '3s',
    });
    expect(line(r.out, 'audit')).toMatch(/--since ignored: move-cursor moves a running stream.*timings unchanged$/);

    // Continue-as-new (the suite's dev server suggests it at 120 events; live events grow the history, an idle
    // stream's waits do not) carries them: still unchanged.
    h.kandji.audit.startLive({ perSecond: 2 });
    const later = await waitFor(
      'a continue-as-new',
      async () => {
        const s = await h.status();
        return s.generation > first.generation ? s : undefined;
      },
      120_000,
    );
    h.kandji.audit.stopLive();
    expect(later.pollIntervalMs).toBe(500);
    r = await cli(['start', 'audit'], { KANDJI_POLL_INTERVAL: '500ms', KANDJI_ERROR_BACKOFF: '3s' });
    expect(line(r.out, 'audit')).toMatch(/timings unchanged$/);
  }, 240_000);
});
