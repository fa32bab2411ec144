/**
 * Runs what the container image runs, on this machine (no container engine here): `npm run build` once, the
 * Dockerfile's ENTRYPOINT + CMD read from the Dockerfile itself, with the image's paths mapped back to the
 * repository (WORKDIR /app = the repository root, the entrypoint script to the file the Dockerfile COPYs).
 * Only tini is left out: it is PID 1 in the image and is not installed here. For the tests and the bench (run from
 * source: ROOT is the checkout).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');

let built = false;

/** `npm run build` (compile to dist/ and prebuild the workflow bundle), once per test file. */
export function buildOnce(): void {
  if (built) return;
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

/** The last JSON-array form of `instruction` in the Dockerfile (the runtime stage's). */
export function dockerfileExec(instruction: 'ENTRYPOINT' | 'CMD'): string[] {
  const lines = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').split('\n');
  const line = lines.filter((l) => l.startsWith(`${instruction} `)).pop();
  if (!line) throw new Error(`no ${instruction} in the Dockerfile`);
  return JSON.parse(line.slice(instruction.length + 1)) as string[];
}

/** The image's ENTRYPOINT + CMD (or `args` instead of CMD, as Kubernetes and compose pass them), mapped to this checkout. */
export function imageCommand(args: string[] = dockerfileExec('CMD')): string[] {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const entry = dockerfileExec('ENTRYPOINT');
  if (entry[0] !== '/usr/bin/tini' || entry[1] !== '--')
    throw new Error(`expected tini as the init process: ${entry.join(' ')}`);
  return entry
    .slice(2)
    .flatMap((part) => {
      const copy = new RegExp(`^COPY (\\S+) ${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(dockerfile);
      return copy ? [path.join(ROOT, copy[1]!)] : [part];
    })
    .concat(args);
}

export interface ImageProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
}

/** Starts the image's command with exactly `env` (plus PATH), in its own process group. */
export function startImageCommand(env: Record<string, string>, args?: string[]): ImageProcess {
  const [cmd, ...rest] = imageCommand(args);
  const child = spawn(cmd!, rest, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    waitForOutput: async (text, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before "${text}":\n${out}`);
        if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Kills a process group that is still running (teardown). */
export async function killGroup(p: ImageProcess | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null || !p.child.pid) return;
  process.kill(-p.child.pid, 'SIGKILL');
  await p.exited;
}
