/**
 * A worker in a process of its own, started as the image starts it: the Dockerfile's entrypoint and command
 * (scripts/image-command.ts; the bench has run `npm run build`), in a pod with the Kubernetes Deployment's
 * memory limit (the entrypoint reads it as the container's cgroup limit), so that its CPU time and memory can be
 * read from /proc.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageCommand } from '../image-command';

const ROOT = path.resolve(__dirname, '../..');
const CLK_TCK = 100;

/** The worker Deployment's memory limit, as a cgroup `memory.max` file for the entrypoint to read. */
function podMemoryLimitFile(): string {
  const manifest = fs.readFileSync(path.join(ROOT, 'deploy/kubernetes/deployment.yaml'), 'utf8');
  const mi = /limits:\s*\{\s*memory:\s*(\d+)Mi\s*\}/.exec(manifest);
  if (!mi) throw new Error('no `limits: { memory: <n>Mi }` in deploy/kubernetes/deployment.yaml');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-bench-cgroup-')), 'memory.max');
  fs.writeFileSync(file, `${Number(mi[1]) * 1_048_576}\n`);
  return file;
}

export class WorkerProcess {
  private constructor(readonly child: ChildProcess) {}

  static async start(env: Record<string, string>): Promise<WorkerProcess> {
    const [cmd, ...args] = imageCommand();
    const child = spawn(cmd!, args, {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        LOG_LEVEL: 'info',
        CGROUP_MEMORY_LIMIT_FILE: podMemoryLimitFile(),
        // Diagnostics of the measured worker (e.g. --heapsnapshot-signal=SIGUSR2), off by default; the entrypoint
        // adds its own flags to these.
        ...(process.env.BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS } : {}),
        // More of the measured worker's environment to try (`NAME=value NAME=value`), e.g. allocator settings.
        ...Object.fromEntries(
          (process.env.BENCH_WORKER_ENV ?? '')
            .split(/\s+/)
            .filter((kv) => kv.includes('='))
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        ),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      cwd: ROOT,
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not start within 120 s:\n${output}`)), 120_000);
      const onData = (b: Buffer) => {
        output += b.toString();
        if (output.length > 100_000) output = output.slice(-50_000);
        if (output.includes('worker started')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${output}`)));
    });
    // The worker's log, for diagnosis, when asked for (BENCH_WORKER_LOG=file); else it is read and dropped.
    const log = process.env.BENCH_WORKER_LOG
      ? fs.createWriteStream(process.env.BENCH_WORKER_LOG, { flags: 'a' })
      : undefined;
    if (log) {
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
    } else {
      child.stdout!.resume();
      child.stderr!.resume();
    }
    return new WorkerProcess(child);
  }

  /** Processes of the worker's group (the entrypoint execs node: one). */
  private pids(): number[] {
    try {
      return execFileSync('ps', ['-o', 'pid=', '-g', String(this.child.pid)], { encoding: 'utf8' })
        .split('\n')
        .map((s) => Number(s.trim()))
        .filter((n) => n > 0);
    } catch {
      return [];
    }
  }

  /** CPU seconds (user + system) used so far by the group. */
  cpuSeconds(): number {
    let ticks = 0;
    for (const pid of this.pids()) {
      try {
        const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // gone meanwhile
      }
    }
    return ticks / CLK_TCK;
  }

  /** Resident memory of the worker process (the largest of the group). */
  rssBytes(): number {
    let max = 0;
    for (const pid of this.pids()) {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) max = Math.max(max, Number(m[1]) * 1024);
      } catch {
        // gone meanwhile
      }
    }
    return max;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      return;
    }
    await exited;
  }
}

/** Samples the worker's RSS every `everyMs` until stopped; returns the highest. */
export function sampleRss(worker: WorkerProcess, everyMs = 250): { stop(): number } {
  let max = worker.rssBytes();
  const timer = setInterval(() => (max = Math.max(max, worker.rssBytes())), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, worker.rssBytes());
    },
  };
}
