/**
 * Starts and stops a real Temporal dev server (`temporal server start-dev`) as a child process.
 * Used by the demo and by the test suite's global setup; the binary comes from scripts/temporal-cli.sh.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';

export interface DevServerOptions {
  port?: number; // default: a free port
  uiPort?: number; // with `ui: true`; default port + 1000
  ui?: boolean;
  /** With `ui: true`: the codec server the UI decodes payloads with (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
  dbFilename?: string; // default: in memory
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Called with each line the server prints (warnings and errors only at log level warn). */
  onLog?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  /** The server's own Prometheus metrics (its `action` counter counts billable actions). */
  metricsUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Path of the temporal CLI, building it on first use (prints progress on stderr). */
export function temporalCliPath(): string {
  const script = path.resolve(__dirname, '../../scripts/temporal-cli.sh');
  return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const bin = temporalCliPath();
  const port = opts.port ?? (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  const metricsPort = await freePort();
  args.push('--http-port', String(await freePort()), '--metrics-port', String(metricsPort));
  if (opts.ui) args.push('--ui-port', String(opts.uiPort ?? port + 1000));
  if (opts.ui && opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  else args.push('--headless');
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename);
  const dynamic: Record<string, string | number | boolean> = {
    'frontend.enableUpdateWorkflowExecution': true,
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted': true,
    'frontend.enableExecuteMultiOperation': true,
    ...opts.dynamicConfig,
  };
  for (const [k, v] of Object.entries(dynamic)) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);

  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const onData = (buf: Buffer) => {
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      logs.push(line);
      if (logs.length > 50) logs.shift();
      opts.onLog?.(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`temporal dev server exited with ${exited}:\n${logs.join('\n')}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1_000 });
      await conn.workflowService.getSystemInfo({});
      await conn.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `temporal dev server did not answer on ${address} within 60s: ${String(err)}\n${logs.join('\n')}`,
          { cause: err },
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  return {
    address,
    uiUrl: opts.ui ? `http://localhost:${opts.uiPort ?? port + 1000}` : undefined,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== undefined) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
