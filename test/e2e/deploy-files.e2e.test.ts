/**
 * The deployment files, checked with what runs without a container engine or a cluster: hadolint (Dockerfile),
 * the Compose specification schema (docker-compose.yml), the Kubernetes schemas (deploy/kubernetes/), all offline
 * from PyPI packages (scripts/deploy-tools.sh), plus the promises between them: grace periods longer than the
 * worker's shutdown grace, probe and scrape ports that are the ones the worker listens on, commands that exist,
 * placeholders only in the examples. Running the image itself is test/e2e/production-worker.e2e.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { dockerfileExec, imageCommand, ROOT } from '../../scripts/image-command';
import { loadTemporalConfig, loadTenantConfigs, loadWorkerConfig, type WorkerConfig } from '../../src/config/env';
import { parseDuration } from '../../src/duration';
import { kustomize, type Manifest } from '../helpers/kustomize';
import { containerEnv } from '../helpers/pod-env';

const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const K8S = 'deploy/kubernetes';

let bin: string;
const tool = (name: string, args: string[]) => spawnSync(path.join(bin, name), args, { cwd: ROOT, encoding: 'utf8' });

beforeAll(() => {
  bin = execFileSync('bash', [path.join(ROOT, 'scripts/deploy-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}, 600_000);

/** `node dist/src/x.js …` must be a compiled entry point: the source it is compiled from exists. */
function expectEntryPoint(command: string[]): void {
  expect(command[0]).toBe('node');
  const compiled = command[1]!;
  expect(compiled).toMatch(/^dist\/.*\.js$/);
  expect(fs.existsSync(path.join(ROOT, compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
}

describe('Dockerfile', () => {
  it('passes hadolint', () => {
    const r = tool('hadolint', ['Dockerfile']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('builds on glibc Node 22, installs production dependencies only, runs as non-root under tini', () => {
    const d = read('Dockerfile');
    expect(d.match(/^FROM (\S+)/gm)).toEqual(['FROM node:22-bookworm-slim', 'FROM node:22-bookworm-slim']);
    expect(d).toMatch(/apt-get install -y --no-install-recommends ca-certificates tini/);
    expect(d).toMatch(/npm ci --omit=dev/);
    expect(d).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(d).toMatch(/^USER 1000:1000$/m);
    expect(dockerfileExec('ENTRYPOINT').slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    expectEntryPoint(dockerfileExec('CMD'));
    // What the build stage copies is what .dockerignore lets through.
    for (const copied of [
      'tsconfig.build.json',
      'workflows',
      'activities',
      'src',
      'simulators',
      'scripts',
      'deploy/docker/entrypoint.sh',
    ]) {
      expect(read('.dockerignore')).toContain(`!${copied}`);
    }
  });

  it("sizes Node's heap to 75% of the container memory limit (cgroup memory.max), and leaves it alone without one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-cgroup-'));
    const limitFile = path.join(dir, 'memory.max');
    const heapMb = (limit: string, extra: Record<string, string> = {}) => {
      fs.writeFileSync(limitFile, `${limit}\n`);
      const [cmd, ...args] = imageCommand([
        'node',
        '-p',
        'process.env.NODE_OPTIONS + " " + Math.round(require("v8").getHeapStatistics().heap_size_limit / 1048576)',
      ]);
      return execFileSync(cmd!, args, {
        env: { PATH: process.env.PATH ?? '', CGROUP_MEMORY_LIMIT_FILE: limitFile, ...extra },
        encoding: 'utf8',
      }).trim();
    };
    const [options, limitMb] = heapMb(String(1024 * 1048576)).split(' ');
    expect(options).toBe('--max-old-space-size=768');
    expect(Number(limitMb)).toBeGreaterThanOrEqual(768); // V8 adds its young generation on top
    expect(Number(limitMb)).toBeLessThan(900);
    expect(heapMb('max').split(' ')[0]).toBe('undefined');
    expect(heapMb(String(1024 * 1048576), { NODE_OPTIONS: '--max-old-space-size=300' }).split(' ')[0]).toBe(
      '--max-old-space-size=300',
    );
    fs.rmSync(dir, { recursive: true });
  });

  it("keeps freed memory from staying resident: glibc's arenas and thresholds set, each unless already set", () => {
    const run = (extra: Record<string, string> = {}) => {
      const [cmd, ...args] = imageCommand([
        'node',
        '-p',
        '[process.env.MALLOC_ARENA_MAX, process.env.MALLOC_MMAP_THRESHOLD_, process.env.MALLOC_TRIM_THRESHOLD_].join(" ")',
      ]);
      return execFileSync(cmd!, args, {
        env: { PATH: process.env.PATH ?? '', CGROUP_MEMORY_LIMIT_FILE: '/nonexistent', ...extra },
        encoding: 'utf8',
      }).trim();
    };
    expect(run()).toBe('2 131072 131072');
    expect(run({ MALLOC_ARENA_MAX: '4', MALLOC_TRIM_THRESHOLD_: '0' })).toBe('4 131072 0');
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'));

  it('is valid against the Compose specification', () => {
    const r = tool('check-jsonschema', ['--builtin-schema', 'vendor.compose-spec', 'docker-compose.yml']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('has the whole stack: PostgreSQL, schema setup, Temporal, namespace, UI with the codec server, worker, cli start, simulators profile', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual([
      'codec-server',
      'postgresql',
      'simulators',
      'start-streams',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
    expect(s.temporal.depends_on['temporal-schema'].condition).toBe('service_completed_successfully');
    const codec = s['codec-server'].environment;
    expect(s['temporal-ui'].environment.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${codec.CODEC_SERVER_PORT}`);
    expect(codec.CODEC_SERVER_ORIGINS).toBe(`http://localhost:${s['temporal-ui'].ports[0].split(':')[1]}`);
    // Without a token the codec server binds loopback only: the host's, for the browser.
    expect([s['codec-server'].network_mode, codec.CODEC_SERVER_HOST]).toEqual(['host', '127.0.0.1']);
    expect(s['start-streams'].command).toEqual(['node', 'dist/src/processes/cli/main.js', 'start']);
    expect(s.simulators.profiles).toEqual(['simulators']);
    expect(s.simulators.network_mode).toBe('service:worker'); // loopback: the only plain-http hosts the config accepts
    for (const name of ['codec-server', 'start-streams', 'simulators']) expectEntryPoint(s[name].command);
    for (const name of ['codec-server', 'worker', 'start-streams', 'simulators']) expect(s[name].build).toBe('.');
    // The batch in flight finishes before compose kills the worker.
    expect(parseDuration(s.worker.stop_grace_period)).toBeGreaterThan(
      parseDuration(s.worker.environment.WORKER_SHUTDOWN_GRACE),
    );
  });

  it('takes every secret from .env, and .env.example names each with a placeholder only', () => {
    const example = read('.env.example');
    const required = [...read('docker-compose.yml').matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    for (const name of new Set(required)) expect(example).toMatch(new RegExp(`^${name}=`, 'm'));
    for (const [, name, value] of example.matchAll(/^(\w*(?:TOKEN|KEY|PASSWORD)\w*)=(.*)$/gm)) {
      expect([name, value === '' || value!.startsWith('replace-with-')]).toEqual([name, true]);
    }
  });
});

describe('deploy/kubernetes', () => {
  const files = fs.readdirSync(path.join(ROOT, K8S)).filter((f) => f.endsWith('.yaml'));
  const manifests = files.filter((f) => f !== 'kustomization.yaml');
  const doc = (f: string) => parse(read(`${K8S}/${f}`));
  const deployment = doc('deployment.yaml');
  const config = doc('configmap.yaml').data;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('validates every manifest against the Kubernetes schemas (strict, offline)', () => {
    const r = tool('kubernetes-validate', ['--strict', '--quiet', ...manifests.map((f) => `${K8S}/${f}`)]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(manifests.every((f) => parseAllDocuments(read(`${K8S}/${f}`)).length === 1)).toBe(true);
  });

  it('the kustomization lists every manifest but the examples (Secret, NetworkPolicy)', () => {
    const k = doc('kustomization.yaml');
    expect([...k.resources].sort()).toEqual(manifests.filter((f) => !f.endsWith('.example.yaml')).sort());
    // The NetworkPolicy example lets in the ports the worker serves, and selects the worker's and the Job's pods.
    const policy = doc('networkpolicy.example.yaml').spec;
    expect(policy.ingress[0].ports.map((p: { port: number }) => String(p.port)).sort()).toEqual(
      [config.HEALTH_PORT, config.METRICS_PORT].sort(),
    );
    expect(policy.podSelector.matchExpressions[0].values.sort()).toEqual(
      [deployment.spec.template.metadata.labels, doc('job-start-streams.yaml').spec.template.metadata.labels]
        .map((l) => l['app.kubernetes.io/name'])
        .sort(),
    );
    expect(
      Object.values(doc('secret.example.yaml').stringData).every((v) => String(v).startsWith('replace-with-')),
    ).toBe(true);
  });

  it('runs 2 workers with resources, probes on the health port, and a grace period longer than the shutdown grace', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
    expectEntryPoint(container.args);
    const port = (name: string) => container.ports.find((p: { name: string }) => p.name === name).containerPort;
    expect(port('health')).toBe(Number(config.HEALTH_PORT));
    expect(port('metrics')).toBe(Number(config.METRICS_PORT));
    expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(parseDuration(config.WORKER_SHUTDOWN_GRACE));
    const pdb = doc('poddisruptionbudget.yaml');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it('meets the restricted security profile: non-root, read-only root filesystem with an emptyDir /tmp, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    for (const spec of [pod, doc('job-start-streams.yaml').spec.template.spec]) {
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of spec.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        const tmp = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
        expect(spec.volumes.find((v: { name: string }) => v.name === tmp.name).emptyDir).toBeDefined();
      }
    }
  });

  it('the Job runs `cli start`; the Datadog Agent scrapes the metrics port', () => {
    expect(doc('job-start-streams.yaml').spec.template.spec.containers[0].args).toEqual([
      'node',
      'dist/src/processes/cli/main.js',
      'start',
    ]);
    const checks = JSON.parse(
      deployment.spec.template.metadata.annotations[`ad.datadoghq.com/${container.name}.checks`],
    );
    const instance = checks.openmetrics.instances[0];
    expect(instance.openmetrics_endpoint).toBe(`http://%%host%%:${config.METRICS_PORT}/metrics`);
    // Every metric the dashboard charts is one the annotation brings in.
    const dashboard = read('deploy/datadog/forwarder-health-dashboard.json');
    const mapped = Object.values(instance.metrics[0] as Record<string, string>);
    for (const [, metric] of dashboard.matchAll(/kandji_datadog\.([a-z_.]+?)(?:\.count)?\{/g)) {
      expect([metric, mapped.includes(metric!) || metric!.startsWith('temporal_')]).toEqual([metric, true]);
    }
  });
});

describe('deploy/kubernetes-examples: many tenants, and tenants sharded across Deployments', () => {
  const EXAMPLES = 'deploy/kubernetes-examples';
  const KEY = Buffer.alloc(32, 5).toString('base64');
  const mounts = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-examples-'));
  afterAll(() => fs.rmSync(mounts, { recursive: true }));

  /** The shared Secret and one per tenant, each token naming its tenant. */
  const secrets = (): Record<string, Record<string, string>> => ({
    'kandji-datadog': { DD_API_KEY: 'dd-key', KANDJI_DATADOG_ENCRYPTION_KEY: KEY },
    ...Object.fromEntries(
      ['acme', 'globex', 'initech', 'umbrella'].map((t) => [`kandji-datadog-tenant-${t}`, { token: `token-of-${t}` }]),
    ),
  });

  /** A rendered example: its manifests, and the worker's and the Job's configuration as their Pod specs give them. */
  const rendered = (dir: string) => {
    const docs = kustomize(`${EXAMPLES}/${dir}`);
    const configMaps = Object.fromEntries(
      docs.filter((d) => d.kind === 'ConfigMap').map((d) => [d.metadata.name, d.data as Record<string, string>]),
    );
    const env = (kind: string) =>
      containerEnv(docs.find((d) => d.kind === kind)!.spec.template.spec, {
        configMaps,
        secrets: secrets(),
        mountsDir: mounts,
      });
    return { docs, worker: loadWorkerConfig(env('Deployment')), job: env('Job') };
  };
  const tokens = (tenants: WorkerConfig['tenants']) =>
    Object.fromEntries(tenants.map((t) => [t.config.tenant, (t.token as () => string)()]));

  it('multi-tenant: the tenants file from a ConfigMap, each token from its own Secret; the Job gets no token', () => {
    const { docs, worker, job } = rendered('multi-tenant');
    expect(tokens(worker.tenants)).toEqual({ acme: 'token-of-acme', globex: 'token-of-globex' });
    expect(worker.datadogApiKeyReader!()).toBe('dd-key');
    expect(Object.keys(job).filter((k) => /^(KANDJI_API_TOKEN|DD_API_KEY)/.test(k))).toEqual([]);
    expect(loadTenantConfigs(job).map((t) => t.config.tenant)).toEqual(['acme', 'globex']);
    // The example Secrets are the ones the pod mounts, with placeholders only.
    const examples = parseAllDocuments(read(`${EXAMPLES}/multi-tenant/tenant-secrets.example.yaml`)).map(
      (d) => d.toJS() as Manifest,
    );
    const mounted = docs
      .find((d) => d.kind === 'Deployment')!
      .spec.template.spec.volumes.flatMap((v: any) => v.projected?.sources ?? [])
      .map((s: any) => s.secret.name);
    expect(examples.map((e) => e.metadata.name)).toEqual(mounted);
    expect(examples.every((e) => Object.values(e.stringData).every((v) => String(v).startsWith('replace-with-')))).toBe(
      true,
    );
  });

  it('sharded: each shard serves its own tenants on its own task queue, started by its own Job; nothing collides', () => {
    const shards = ['shard-a', 'shard-b'].map((s) => rendered(`sharded/${s}`));
    const queues = shards.map((s) => s.worker.temporal.taskQueue);
    expect(new Set(queues).size).toBe(2);
    // The Job starts its tenants' streams on its shard's queue, which only that shard's workers poll.
    for (const s of shards) {
      expect(loadTemporalConfig(s.job).taskQueue).toBe(s.worker.temporal.taskQueue);
      expect(loadTenantConfigs(s.job).map((t) => t.config.tenant)).toEqual(
        s.worker.tenants.map((t) => t.config.tenant),
      );
      for (const [tenant, token] of Object.entries(tokens(s.worker.tenants))) expect(token).toBe(`token-of-${tenant}`);
    }
    // A tenant in two shards would have its workflows (ids kandji-datadog/<tenant>/<stream>) on one shard's queue only.
    const tenants = shards.flatMap((s) => s.worker.tenants.map((t) => t.config.tenant));
    expect(new Set(tenants).size).toBe(tenants.length);
    // Applied side by side: only the shared Namespace has the same name; the Deployments select their own pods.
    const names = shards.flatMap((s) =>
      s.docs.filter((d) => d.kind !== 'Namespace').map((d) => `${d.kind}/${d.metadata.name}`),
    );
    expect(new Set(names).size).toBe(names.length);
    const selectors = shards.map((s) => s.docs.find((d) => d.kind === 'Deployment')!.spec.selector.matchLabels);
    expect(selectors[0]).not.toEqual(selectors[1]);
    for (const s of shards)
      expect(s.docs.find((d) => d.kind === 'PodDisruptionBudget')!.spec.selector.matchLabels).toEqual(
        s.docs.find((d) => d.kind === 'Deployment')!.spec.selector.matchLabels,
      );
  });

  it('every rendered example validates against the Kubernetes schemas (strict, offline)', () => {
    for (const dir of ['multi-tenant', 'sharded/shard-a', 'sharded/shard-b']) {
      const file = path.join(mounts, `${dir.replace('/', '-')}.yaml`);
      fs.writeFileSync(
        file,
        kustomize(`${EXAMPLES}/${dir}`)
          .map((d) => stringify(d))
          .join('---\n'),
      );
      const r = tool('kubernetes-validate', ['--strict', '--quiet', file]);
      expect([dir, r.stdout + r.stderr]).toEqual([dir, '']);
      expect(r.status).toBe(0);
    }
  });
});
