/**
 * A rehearsal of docker-compose.yml with real components, without a container engine: the file interpolated from
 * .env.example (plus this test's secrets and the simulators lines) exactly as Compose does, then each service's own
 * command with its own environment, in `depends_on` order, with the healthchecks that can run here. PostgreSQL 15
 * (Debian's package), the Temporal server and temporal-sql-tool built from the Go module proxy at the version the
 * compose file pins (scripts/temporal-server.sh), the temporal CLI for the namespace step, and the project's image
 * command for the codec server, the worker, `cli start` and the simulators.
 *
 * What containers give and this cannot: each service's network namespace (here every port is on 127.0.0.1, so the
 * ports the services would each own are moved to free ones: the only edits to the environment, listed in `onHost`),
 * and the images' file layout (the volumes are copied into each service's working directory). The Temporal UI server
 * is built at the pinned version too (scripts/temporal-ui-server.sh); a browser is not run.
 *
 * Then deploy/kubernetes, rendered with kustomize, against the same Temporal server: the Deployment's container and
 * the Job's as their Pod specs describe them (test/helpers/pod-env.ts: env and mounted files; test/helpers/
 * read-only-root.ts: the read-only root with the /tmp emptyDir, the pod's user), with simulators of their own.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { buildOnce, imageCommand, ROOT } from '../../scripts/image-command';
import { DatadogSimulator } from '../../simulators/datadog';
import { startDemoWorld, type DemoWorld } from '../../simulators/demo-world';
import { KandjiSimulator } from '../../simulators/kandji';
import { freePort, temporalCliPath } from '../../src/temporal/dev-server';
import { composeServices, type ComposeService } from '../helpers/compose-env';
import { kustomize } from '../helpers/kustomize';
import { containerEnv, type PodSources, type PodSpec } from '../helpers/pod-env';
import { readOnlyRoot } from '../helpers/read-only-root';
import { waitFor } from '../helpers/wait';

const KEY = Buffer.alloc(32, 9).toString('base64');
const execFileAsync = promisify(execFile);
/**
 * The Temporal server's own ports besides the frontend's (its config template's variables): free ones too, so that
 * two rehearsals on one machine do not collide; below 32768 (freeSmallPort): membership ports are stored as a SQL
 * smallint, and no outgoing connection takes one as its local port meanwhile.
 */
const SERVER_PORTS = [
  'FRONTEND_MEMBERSHIP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
];

interface Proc {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
/**
 * Starts a service's command. Its output goes to a file, not a pipe: a pipe nobody drains while the test waits (a
 * synchronous call, a slow machine) fills up and stops the process at its next log line — the Temporal server
 * stalled that way mid-run, with every query hanging.
 */
function start(name: string, command: string[], env: Record<string, string>, cwd = ROOT): Proc {
  const log = path.join(work, 'logs', `${name.replace(/\W+/g, '-')}-${procs.length}.log`);
  fs.mkdirSync(path.dirname(log), { recursive: true });
  const fd = fs.openSync(log, 'w');
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    // Every container has a HOME (the temporal CLI reads its config file under it).
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: path.join(work, 'home'), ...env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  fs.closeSync(fd);
  const p = {
    name,
    child,
    output: () => fs.readFileSync(log, 'utf8'),
    exited: new Promise<number | null>((r) => child.once('exit', r)),
  };
  procs.push(p);
  return p;
}

/** Runs a one-shot service to completion; its exit code must be 0 (`service_completed_successfully`). */
async function runOnce(name: string, command: string[], env: Record<string, string>, cwd = ROOT): Promise<string> {
  const p = start(name, command, env, cwd);
  const code = await p.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${p.output()}`);
  return p.output();
}

/** A compose healthcheck's CMD / CMD-SHELL, run here: true when it exits 0. */
function healthy(s: ComposeService, env: Record<string, string>, edit = (cmd: string) => cmd): boolean {
  const test = (s.healthcheck as { test: string[] }).test;
  const [kind, ...rest] = test;
  const cmd = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', edit(rest[0]!)] : rest.map(edit);
  const r = spawnSync(cmd[0]!, cmd.slice(1), {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, ...env },
    timeout: 10_000,
  });
  return r.status === 0;
}

let bin: string;
let work: string;
let services: Record<string, ComposeService>;
const ports: Record<string, number> = {};

beforeAll(async () => {
  const server = execFileSync('bash', [path.join(ROOT, 'scripts/temporal-server.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  buildOnce();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-compose-'));
  fs.chmodSync(work, 0o755);
  bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  fs.mkdirSync(path.join(work, 'home'));
  for (const tool of ['temporal-server', 'temporal-sql-tool'])
    fs.symlinkSync(path.join(server, 'bin', tool), path.join(bin, tool));
  fs.symlinkSync(temporalCliPath(), path.join(bin, 'temporal'));
  // The images' busybox `nc -z [-w N] host port`, for the healthchecks and the schema script.
  fs.writeFileSync(
    path.join(bin, 'nc'),
    '#!/bin/bash\nhost="${@: -2:1}"; port="${@: -1}"\ntimeout 5 bash -c "</dev/tcp/$host/$port" 2>/dev/null\n',
    { mode: 0o755 },
  );
  fs.cpSync(path.join(server, 'schema'), path.join(work, 'schema'), { recursive: true });
  for (const name of ['pg', 'frontend', 'frontendHttp', 'health', 'metrics', 'kandji', 'datadog', 'codec'])
    ports[name] = await freePort();
  for (const name of SERVER_PORTS) ports[name] = await freeSmallPort();
  const envFile = fs
    .readFileSync(path.join(ROOT, '.env.example'), 'utf8')
    .replace(/^# ((?:KANDJI_API_URL|DD_LOGS_URL|KANDJI_STREAMS)=.*)$/gm, '$1')
    .replace(/:8081\b/, `:${ports.kandji}`)
    .replace(/:8082\//, `:${ports.datadog}/`);
  services = composeServices(envFile, {
    POSTGRES_PASSWORD: 'rehearsal-password',
    KANDJI_API_TOKEN: 'rehearsal-kandji-token',
    DD_API_KEY: 'rehearsal-dd-key',
    KANDJI_DATADOG_ENCRYPTION_KEY: KEY,
  });
}, 900_000);

afterAll(async () => {
  for (const p of procs.reverse())
    if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid) {
      try {
        process.kill(-p.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await p.exited;
    }
  // KEEP_REHEARSAL=1 keeps the services' logs and data (under logs/ of the printed directory) to look at a failure.
  if (work && process.env.KEEP_REHEARSAL === '1') console.log(`rehearsal kept in ${work}`);
  else if (work) spawnSync('rm', ['-rf', work]);
});

/** Service addresses as the compose network names them, and the ports each container would own, moved to free ones. */
function onHost(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  if (out.TEMPORAL_ADDRESS === 'temporal:7233') out.TEMPORAL_ADDRESS = `127.0.0.1:${ports.frontend}`;
  return out;
}

describe('docker-compose.yml, rehearsed with real components', () => {
  let pgData: string;
  let temporal: Proc;
  let worker: Proc;
  const forwarderPorts = () => ({ HEALTH_PORT: String(ports.health), METRICS_PORT: String(ports.metrics) });

  it('postgresql: starts and passes its healthcheck (pg_isready -U temporal)', async () => {
    const pg = services.postgresql!;
    pgData = path.join(work, 'pgdata');
    fs.mkdirSync(pgData, { mode: 0o700 });
    execFileSync('chown', ['postgres:postgres', pgData]);
    const sock = path.join(work, 'pgsock');
    fs.mkdirSync(sock);
    execFileSync('chown', ['postgres:postgres', sock]);
    const pw = path.join(work, 'pgpass');
    fs.writeFileSync(pw, pg.environment.POSTGRES_PASSWORD!, { mode: 0o644 });
    // The image's init: a superuser POSTGRES_USER with POSTGRES_PASSWORD, password auth over TCP.
    const pgBin = postgresBin();
    execFileSync(
      'runuser',
      [
        '-u',
        'postgres',
        '--',
        `${pgBin}/initdb`,
        '-D',
        pgData,
        '-U',
        pg.environment.POSTGRES_USER!,
        `--pwfile=${pw}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
      ],
      { stdio: 'ignore' },
    );
    start(
      'postgresql',
      [
        'runuser',
        '-u',
        'postgres',
        '--',
        `${pgBin}/postgres`,
        '-D',
        pgData,
        '-p',
        String(ports.pg),
        '-k',
        sock,
        '-h',
        '127.0.0.1',
      ],
      {},
    );
    await waitFor(
      'postgresql healthy',
      () => healthy(pg, {}, (c) => c.replace('pg_isready', `${pgBin}/pg_isready -h 127.0.0.1 -p ${ports.pg}`)),
      60_000,
      500,
    );
    // The image also creates the database POSTGRES_DB, by default named after POSTGRES_USER.
    execFileSync(
      'psql',
      [
        '-h',
        sock,
        '-p',
        String(ports.pg),
        '-U',
        pg.environment.POSTGRES_USER!,
        '-d',
        'postgres',
        '-c',
        `CREATE DATABASE ${pg.environment.POSTGRES_USER}`,
      ],
      { stdio: 'ignore' },
    );
  });

  it('temporal-schema: the setup script creates both databases and their schemas (and again: idempotent)', async () => {
    const s = services['temporal-schema']!;
    const env = {
      ...s.environment,
      SQL_HOST: '127.0.0.1',
      SQL_PORT: String(ports.pg),
      SCHEMA_DIR: path.join(work, 'schema'),
    };
    const script = path.join(ROOT, 'deploy/compose/setup-postgres.sh');
    expect(s.entrypoint).toEqual(['/bin/sh', '/scripts/setup-postgres.sh']);
    expect(await runOnce('temporal-schema', ['/bin/sh', script], env)).toContain('PostgreSQL schema setup complete');
    expect(await runOnce('temporal-schema again', ['/bin/sh', script], env)).toContain(
      'PostgreSQL schema setup complete',
    );
  }, 300_000);

  const startTemporal = () => {
    const s = services.temporal!;
    // The image: WORKDIR /etc/temporal, `temporal-server start` with the configuration it renders from the
    // environment; the dynamic config volume at config/dynamicconfig/kandji-datadog.yaml under it.
    const dir = path.join(work, 'etc-temporal');
    fs.mkdirSync(path.join(dir, 'config/dynamicconfig'), { recursive: true });
    fs.copyFileSync(
      path.join(ROOT, 'deploy/compose/dynamicconfig.yaml'),
      path.join(dir, s.environment.DYNAMIC_CONFIG_FILE_PATH!),
    );
    const env = {
      ...s.environment,
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: String(ports.pg),
      BIND_ON_IP: '127.0.0.1',
      FRONTEND_GRPC_PORT: String(ports.frontend),
      FRONTEND_HTTP_PORT: String(ports.frontendHttp),
      ...Object.fromEntries(SERVER_PORTS.map((name) => [name, String(ports[name])])),
    };
    return start('temporal', ['temporal-server', 'start'], env, dir);
  };

  it('temporal: the server starts on that database and passes its healthcheck', async () => {
    temporal = startTemporal();
    await waitFor(
      'temporal healthy',
      () => {
        if (temporal.child.exitCode !== null) throw new Error(temporal.output().slice(-3000));
        return healthy(services.temporal!, {}, (c) => (c === '7233' ? String(ports.frontend) : c));
      },
      120_000,
      1_000,
    );
  }, 180_000);

  it('temporal-namespace: its entrypoint creates the namespace (and again: idempotent)', async () => {
    const s = services['temporal-namespace']!;
    const env = onHost(s.environment);
    const cmd = s.entrypoint as string[];
    await runOnce('temporal-namespace', cmd, env);
    await runOnce('temporal-namespace again', cmd, env);
  }, 120_000);

  it('temporal-ui: the UI server at the pinned version lists the namespace and gives the browser the codec endpoint', async () => {
    const s = services['temporal-ui']!;
    // The image: WORKDIR /home/ui-server holding ui-server and config/docker.yaml, `./ui-server --env docker start`
    // (its entrypoint), the configuration templated from the environment; its port 8080 moved to a free one.
    const dir = execFileSync('bash', [path.join(ROOT, 'scripts/temporal-ui-server.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    ports.ui = await freePort();
    const env = { ...onHost(s.environment), TEMPORAL_UI_PORT: String(ports.ui) };
    const ui = start('temporal-ui', [path.join(dir, 'bin/ui-server'), '--env', 'docker', 'start'], env, dir);
    const api = async (route: string) => {
      if (ui.child.exitCode !== null) throw new Error(ui.output());
      const r = await fetch(`http://127.0.0.1:${ports.ui}/api/v1/${route}`);
      return r.ok ? ((await r.json()) as any) : undefined;
    };
    const settings = await waitFor('temporal-ui', () => api('settings'), 60_000, 500);
    expect(settings.Codec.Endpoint).toBe(s.environment.TEMPORAL_CODEC_ENDPOINT);
    expect(settings.DefaultNamespace).toBe(s.environment.TEMPORAL_DEFAULT_NAMESPACE);
    const namespaces = await waitFor('namespaces through the UI server', () => api('namespaces'), 30_000, 500);
    expect(JSON.stringify(namespaces)).toContain(`"name":"${s.environment.TEMPORAL_DEFAULT_NAMESPACE}"`);
  }, 120_000);

  it('codec-server: decodes with the workers key for the UI origin', async () => {
    const s = services['codec-server']!;
    const env = { ...s.environment, CODEC_SERVER_PORT: String(ports.codec) };
    start('codec-server', imageCommand(s.command), env);
    const origin = s.environment.CODEC_SERVER_ORIGINS!;
    const r = await waitFor(
      'codec server',
      async () => {
        const res = await fetch(`http://127.0.0.1:${ports.codec}/decode`, {
          method: 'POST',
          headers: { origin, 'content-type': 'application/json', 'x-namespace': 'default' },
          body: JSON.stringify({ payloads: [] }),
        });
        return res.ok ? res : undefined;
      },
      30_000,
      250,
    );
    expect(r.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('simulators, worker and start-streams: the worker gets healthy, `cli start` succeeds, events reach Datadog', async () => {
    const sim = services.simulators!;
    start('simulators', imageCommand(sim.command), {
      ...sim.environment,
      KANDJI_SIMULATOR_PORT: String(ports.kandji),
      DATADOG_SIMULATOR_PORT: String(ports.datadog),
    });
    worker = start('worker', imageCommand(), { ...onHost(services.worker!.environment), ...forwarderPorts() });
    await waitFor(
      'worker healthy',
      () => {
        if (worker.child.exitCode !== null) throw new Error(worker.output());
        return healthy(services.worker!, {}, (c) => c.replace('127.0.0.1:8080', `127.0.0.1:${ports.health}`));
      },
      120_000,
      1_000,
    );
    const startEnv = onHost(services['start-streams']!.environment);
    expect(await runOnce('start-streams', imageCommand(services['start-streams']!.command), startEnv)).toMatch(
      /started/,
    );
    await waitFor(
      'audit and detections shipped',
      async () => {
        const st = await status(startEnv);
        return (st.audit?.counts.shipped ?? 0) >= 3_000 && (st.detections?.counts.shipped ?? 0) >= 2_000;
      },
      600_000,
      5_000,
    );
  }, 900_000);

  it('the Temporal server restarts on the same database and the streams carry on', async () => {
    const startEnv = onHost(services['start-streams']!.environment);
    const before = (await status(startEnv)).audit!.counts.shipped;
    temporal.child.kill('SIGTERM');
    await temporal.exited;
    temporal = startTemporal();
    await waitFor(
      'shipping again after the restart',
      async () => (await status(startEnv)).audit!.counts.shipped > before + 20,
      300_000,
      5_000,
    );
  }, 400_000);

  it('the worker exits 0 on SIGTERM, and wrote only JSON lines Datadog maps', async () => {
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    // Through the server's restart too, every line the worker wrote is JSON with a string level (Temporal Core's
    // warnings included): what the Datadog Agent parses.
    const lines = worker.output().split('\n').filter(Boolean);
    expect(lines.some((l) => l.includes('"sdk":true'))).toBe(true);
    for (const line of lines)
      expect([line, typeof (JSON.parse(line) as { level?: unknown }).level]).toEqual([line, 'string']);
  }, 60_000);
});

/** A free port below 32768, outside the kernel's ephemeral range (where freePort's are). */
async function freeSmallPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer().once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** The newest PostgreSQL Debian installed (.ci/run installs the `postgresql` package when there is none). */
function postgresBin(): string {
  const versions = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  return `/usr/lib/postgresql/${versions.pop()}/bin`;
}

interface StreamView {
  counts: { shipped: number; stale?: number };
}

/** `cli status --json` with the one-shot's environment: every tenant's streams (asynchronous: the test's event loop
 * keeps running). */
async function tenantsStatus(
  env: Record<string, string>,
): Promise<Record<string, Record<string, StreamView | undefined>>> {
  const [cmd, ...args] = imageCommand(['node', 'dist/src/processes/cli/main.js', 'status', '--json']);
  const { stdout } = await execFileAsync(cmd!, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: path.join(work, 'home'), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const parsed = JSON.parse(stdout) as {
    tenants: { tenant: string; streams: { stream: string; status?: StreamView }[] }[];
  };
  return Object.fromEntries(
    parsed.tenants.map((t) => [t.tenant, Object.fromEntries(t.streams.map((s) => [s.stream, s.status]))]),
  );
}

/** The (first) tenant's streams. */
async function status(env: Record<string, string>): Promise<Record<string, StreamView | undefined>> {
  return Object.values(await tenantsStatus(env))[0] ?? {};
}

type Doc = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec: any };
type Container = PodSpec['containers'][number] & { securityContext?: object; ports: any[]; [k: string]: any };

/**
 * A container of a rendered Pod spec as the kubelet would run it: its args through the image's entrypoint, its
 * environment and mounted files (pod-env), a read-only root but for the /tmp emptyDir (TMPDIR), as the pod's user.
 * `tryWrite` tells whether that user may write a file there.
 */
function podCommand(spec: PodSpec & Record<string, any>, name: string, sources: PodSources) {
  const c = spec.containers[0] as Container;
  expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  expect(spec.volumes!.find((v) => v.name === 'tmp')).toMatchObject({ emptyDir: {} });
  const tmp = fs.mkdtempSync(path.join(work, `${name.replace(/\W/g, '-')}-tmp-`));
  const security = { ...spec.securityContext, ...c.securityContext };
  const command = readOnlyRoot(imageCommand(c.args), tmp, security);
  const env: Record<string, string> = { ...containerEnv(spec, sources), TMPDIR: tmp };
  const tryWrite = (file: string) => {
    const [cmd, ...args] = readOnlyRoot(['node', '-e', `require('fs').writeFileSync('${file}', 'x')`], tmp, security);
    return spawnSync(cmd!, args, { env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' }).status;
  };
  return { command, env, tryWrite };
}

/** A Temporal namespace of the rehearsal's server, once its frontend serves it (its cache lags a few seconds). */
async function createNamespace(namespace: string): Promise<void> {
  const cli = ['--address', `127.0.0.1:${ports.frontend}`, '--namespace', namespace];
  await runOnce(`namespace ${namespace}`, ['temporal', 'operator', 'namespace', 'create', ...cli], {});
  await waitFor(
    'namespace served',
    () => spawnSync(path.join(bin, 'temporal'), ['workflow', 'list', '--limit', '1', ...cli]).status === 0,
    60_000,
    1_000,
  );
}

describe('deploy/kubernetes rendered (kubectl kustomize), its Pod specs run against the rehearsal stack', () => {
  let docs: Doc[];
  let world: DemoWorld;
  let pod: Proc;
  const NAMESPACE = 'kandji-datadog-k8s';
  const find = (kind: string) => docs.find((d) => d.kind === kind)!;
  const podSpec = (kind: 'Deployment' | 'Job') => find(kind).spec.template.spec as PodSpec & Record<string, any>;

  /**
   * The ConfigMap as an operator fills it in for this stack (Temporal, Kandji and Datadog addresses; a namespace of
   * its own, so that these streams are not the compose stack's), the pod's ports moved to free ones; the example
   * Secret's keys with this stack's values (TEMPORAL_API_KEY omitted: "omit for your own cluster").
   */
  const sources = () => {
    const example = parseAllDocuments(
      fs.readFileSync(path.join(ROOT, 'deploy/kubernetes/secret.example.yaml'), 'utf8'),
    )[0]!.toJS() as { stringData: Record<string, string> };
    const values: Record<string, string> = {
      KANDJI_API_TOKEN: 'k8s-kandji-token',
      DD_API_KEY: 'k8s-dd-key',
      KANDJI_DATADOG_ENCRYPTION_KEY: KEY,
    };
    const secret = Object.fromEntries(
      Object.keys(example.stringData)
        .filter((k) => k !== 'TEMPORAL_API_KEY')
        .map((k) => [k, values[k]!]),
    );
    return {
      configMaps: {
        [find('ConfigMap').metadata.name]: {
          ...find('ConfigMap').data,
          TEMPORAL_ADDRESS: `127.0.0.1:${ports.frontend}`,
          TEMPORAL_NAMESPACE: NAMESPACE,
          KANDJI_API_URL: world.kandji.url,
          DD_LOGS_URL: world.datadog.intakeUrl,
          HEALTH_PORT: String(ports.podHealth),
          METRICS_PORT: String(ports.podMetrics),
        },
      },
      secrets: { 'kandji-datadog': secret },
      mountsDir: work,
    };
  };

  const run = (name: string, kind: 'Deployment' | 'Job') => podCommand(podSpec(kind), name, sources());
  const jobEnv = () => run('status', 'Job').env;
  /** Fails at once when the pod has exited (a query would wait for a worker that is not there). */
  const podRunning = () => {
    if (pod?.child.exitCode !== null) throw new Error(`the pod is not running:\n${pod?.output() ?? ''}`);
  };

  beforeAll(async () => {
    docs = kustomize('deploy/kubernetes') as Doc[];
    ports.podHealth = await freePort();
    ports.podMetrics = await freePort();
    world = await startDemoWorld({ kandjiToken: 'k8s-kandji-token', datadogApiKey: 'k8s-dd-key' });
    await createNamespace(NAMESPACE);
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  it("the Deployment's container: its command, env (Secret files mounted), a read-only root, probes over HTTP", async () => {
    const c = podSpec('Deployment').containers[0] as Container;
    const { command, env, tryWrite } = run('k8s pod', 'Deployment');
    // The read-only root holds: the container's user may write in the /tmp emptyDir (TMPDIR) and nowhere else.
    expect(tryWrite(path.join(env.TMPDIR!, 'written'))).toBe(0);
    for (const dir of [ROOT, work, os.tmpdir(), '/var/tmp'])
      expect([dir, tryWrite(path.join(dir, 'written-by-the-pod'))]).not.toEqual([dir, 0]);
    expect(env.KANDJI_API_TOKEN).toBeUndefined(); // from the mounted Secret file only
    expect(env.DD_API_KEY).toBeUndefined();
    expect(fs.readFileSync(env.KANDJI_API_TOKEN_FILE!, 'utf8')).toBe('k8s-kandji-token');
    pod = start('k8s pod', command, env);
    const portOf = (name: string) => {
      const p = c.ports.find((x: { name: string }) => x.name === name).containerPort as number;
      const data = find('ConfigMap').data!;
      if (p === Number(data.HEALTH_PORT)) return ports.podHealth;
      if (p === Number(data.METRICS_PORT)) return ports.podMetrics;
      throw new Error(`port ${name} (${p}) is neither HEALTH_PORT nor METRICS_PORT`);
    };
    const probe = async (p: { httpGet: { path: string; port: string } }) =>
      (await fetch(`http://127.0.0.1:${portOf(p.httpGet.port)}${p.httpGet.path}`).catch(() => undefined))?.status;
    const alive = () => {
      if (pod.child.exitCode !== null) throw new Error(pod.output());
    };
    await waitFor('startup probe', async () => (alive(), (await probe(c.startupProbe)) === 200), 60_000, 500);
    await waitFor('readiness probe', async () => (await probe(c.readinessProbe)) === 200, 60_000, 500);
    expect(await probe(c.livenessProbe)).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${portOf('metrics')}/metrics`)).text();
    expect(metrics).toContain('kandji_datadog_temporal_reachable');
  }, 180_000);

  it("the Job's command, with no Kandji or Datadog secret, starts the streams: every detection kept by Datadog", async () => {
    podRunning();
    const { command, env } = run('k8s job', 'Job');
    expect(Object.keys(env).filter((k) => /^(KANDJI_API_TOKEN|DD_API_KEY)/.test(k))).toEqual([]);
    expect(await runOnce('k8s job', command, env)).toMatch(/started/);
    await waitFor(
      'audit backlog and every detection shipped',
      async () => {
        const st = await status(jobEnv());
        return (st.audit?.counts.shipped ?? 0) >= 3_000 && (st.detections?.counts.shipped ?? 0) >= 2_000;
      },
      600_000,
      5_000,
    );
    // Most detections are older than Datadog's 18-hour window: with the ConfigMap's settings (DD_STALE_EVENTS unset)
    // they are restamped, and Datadog drops none of them.
    expect((await status(jobEnv())).detections!.counts.stale).toBeGreaterThan(1_000);
    expect(world.datadog.staleCount).toBe(0);
    expect(world.datadog.receivedCount).toBeGreaterThanOrEqual(5_000);
  }, 700_000);

  it("the Job's command again: idempotent, the streams run on where they were", async () => {
    podRunning();
    const before = await status(jobEnv());
    const { command, env } = run('k8s job again', 'Job');
    const out = await runOnce('k8s job again', command, env);
    expect(out.match(/already running/g)).toHaveLength(2);
    await waitFor(
      'shipping on',
      async () => (await status(jobEnv())).audit!.counts.shipped > before.audit!.counts.shipped,
      120_000,
      2_000,
    );
    expect((await status(jobEnv())).detections!.counts.shipped).toBeGreaterThanOrEqual(
      before.detections!.counts.shipped,
    );
  }, 180_000);

  it('the pod exits 0 on SIGTERM within its termination grace period, having written only under /tmp', async () => {
    pod.child.kill('SIGTERM');
    const grace = podSpec('Deployment').terminationGracePeriodSeconds * 1000;
    const code = await Promise.race([pod.exited, new Promise((r) => setTimeout(() => r('still running'), grace))]);
    expect(code).toBe(0);
    expect(pod.output()).not.toMatch(/EROFS|read-only file system/i);
  }, 120_000);
});

describe('deploy/kubernetes-examples/multi-tenant rendered: one pod, two tenants, each token from its own Secret', () => {
  const NAMESPACE = 'kandji-datadog-k8s-tenants';
  const TENANTS = ['acme', 'globex'];
  let docs: Doc[];
  let kandji: KandjiSimulator;
  let datadog: DatadogSimulator;
  const spec = (kind: string) => docs.find((d) => d.kind === kind)!.spec.template.spec as PodSpec & Record<string, any>;

  /** The ConfigMaps filled in for this stack (the tenants file's Kandji URLs: the simulator's), a Secret per tenant. */
  const sources = (): PodSources => {
    const configMaps = Object.fromEntries(
      docs.filter((d) => d.kind === 'ConfigMap').map((d) => [d.metadata.name, { ...d.data }]),
    );
    for (const data of Object.values(configMaps))
      if (data['tenants.yaml']) data['tenants.yaml'] = data['tenants.yaml'].replace(/https:\/\/[\w.]+/g, kandji.url);
    Object.assign(configMaps['kandji-datadog']!, {
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.frontend}`,
      TEMPORAL_NAMESPACE: NAMESPACE,
      DD_LOGS_URL: datadog.intakeUrl,
      HEALTH_PORT: String(ports.tenantsHealth),
      METRICS_PORT: String(ports.tenantsMetrics),
    });
    const secrets = Object.fromEntries(TENANTS.map((t) => [`kandji-datadog-tenant-${t}`, { token: `token-of-${t}` }]));
    return {
      configMaps,
      secrets: { ...secrets, 'kandji-datadog': { DD_API_KEY: 'k8s-dd-key', KANDJI_DATADOG_ENCRYPTION_KEY: KEY } },
      mountsDir: work,
    };
  };

  beforeAll(async () => {
    docs = kustomize('deploy/kubernetes-examples/multi-tenant') as Doc[];
    ports.tenantsHealth = await freePort();
    ports.tenantsMetrics = await freePort();
    const now = Date.now();
    kandji = await KandjiSimulator.start({
      tokens: TENANTS.map((t) => `token-of-${t}`),
      seed: 7,
      backlog: { count: 300, from: new Date(now - 3_600_000), to: new Date(now - 5_000) },
      detections: { count: 100 },
    });
    datadog = await DatadogSimulator.start({ apiKeys: ['k8s-dd-key'] });
    await createNamespace(NAMESPACE);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([kandji?.stop(), datadog?.stop()]);
  });

  it('the worker serves both tenants, the Job (no token) starts both, both ship; SIGTERM exits 0', async () => {
    const worker = podCommand(spec('Deployment'), 'tenants pod', sources());
    expect(Object.keys(worker.env).filter((k) => k.startsWith('KANDJI_API_TOKEN'))).toEqual([]);
    const pod = start('tenants pod', worker.command, worker.env);
    await waitFor(
      'the pod ready',
      async () => {
        if (pod.child.exitCode !== null) throw new Error(pod.output());
        return (await fetch(`http://127.0.0.1:${ports.tenantsHealth}/readyz`).catch(() => undefined))?.status === 200;
      },
      60_000,
      500,
    );
    const job = podCommand(spec('Job'), 'tenants job', sources());
    expect(Object.keys(job.env).filter((k) => /^(KANDJI_API_TOKEN|DD_API_KEY)/.test(k))).toEqual([]);
    const started = await runOnce('tenants job', job.command, job.env);
    for (const t of TENANTS) expect(started).toMatch(new RegExp(`kandji-datadog/${t}/audit: started`));
    await waitFor(
      'both tenants shipped',
      async () => {
        const st = await tenantsStatus(job.env);
        return TENANTS.every(
          (t) => (st[t]?.audit?.counts.shipped ?? 0) >= 300 && (st[t]?.detections?.counts.shipped ?? 0) >= 100,
        );
      },
      300_000,
      3_000,
    );
    expect(datadog.staleCount).toBe(0);
    pod.child.kill('SIGTERM');
    expect(await pod.exited).toBe(0);
  }, 400_000);
});
