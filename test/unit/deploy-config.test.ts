/**
 * The deployed configurations load: docker-compose.yml interpolated from .env.example the way Compose does it, and
 * the Kubernetes ConfigMap with the example Secret, each fed to the loaders the worker, the CLI and the codec server
 * use. The promises an operator relies on without reading the code: no exit 2 with the example as shipped, each
 * stream's own stale-events policy.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../../scripts/image-command';
import { loadTemporalConfig, loadTenantConfigs, loadWorkerConfig } from '../../src/config/env';
import { loadWorkerProcessOptions } from '../../src/processes/worker/process-options';
import { SERVICE_NAME } from '../../src/telemetry/logger';
import { composeServices, interpolate, parseEnvFile } from '../helpers/compose-env';
import { containerEnv } from '../helpers/pod-env';

const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const ENV_EXAMPLE = read('.env.example');
const KEY = Buffer.alloc(32, 7).toString('base64');
/** The defaults of each stream: detections are re-stamped (Datadog drops logs older than 18 h), the rest shipped. */
const DEFAULT_STALE = { audit: 'ship', detections: 'restamp', threats: 'ship', 'behavioral-detections': 'restamp' };

/** .env.example with its commented-out simulator lines switched on. */
const simulatorsEnv = ENV_EXAMPLE.replace(/^# ((?:KANDJI_API_URL|DD_LOGS_URL|KANDJI_STREAMS)=.*)$/gm, '$1');

describe('Compose interpolation (the test helper)', () => {
  it('follows Compose: `:-` for unset or empty, `-` for unset only, `:?` and `?` fail, `$$` is a dollar', () => {
    const vars = { EMPTY: '', SET: 'x' };
    expect(interpolate('${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${UNSET:-d} ${SET:-d}', vars)).toBe('d  d d x');
    expect(interpolate('${EMPTY:+a}|${EMPTY+a}|$$SET|$SET', vars)).toBe('|a|$SET|x');
    expect(() => interpolate('${EMPTY:?needed}', vars)).toThrow(/EMPTY/);
    expect(interpolate('${EMPTY?needed}', vars)).toBe('');
    expect(() => interpolate('${UNSET?needed}', vars)).toThrow(/UNSET/);
    expect(parseEnvFile('# c\nA=1\nB=\nC="q r"\n# D=4\n')).toEqual({ A: '1', B: '', C: 'q r' });
  });
});

describe('docker-compose.yml with .env.example', () => {
  for (const [label, envFile, shell] of [
    ['as shipped (no payload key, Datadog by site)', ENV_EXAMPLE, {}],
    [
      'with a payload key',
      ENV_EXAMPLE.replace(/^KANDJI_DATADOG_ENCRYPTION_KEY=$/m, `KANDJI_DATADOG_ENCRYPTION_KEY=${KEY}`),
      {},
    ],
    ['for the simulators profile', simulatorsEnv, {}],
  ] as const) {
    it(`every service of ours loads its configuration: ${label}`, () => {
      const s = composeServices(envFile, shell);
      const worker = loadWorkerConfig(s.worker!.environment);
      expect(loadWorkerProcessOptions(s.worker!.environment).shutdownGraceMs).toBe(25_000);
      loadTemporalConfig(s['start-streams']!.environment);
      expect(Object.keys(s['start-streams']!.environment).filter((k) => /^(KANDJI_API_TOKEN|DD_)/.test(k))).toEqual([]);
      // The CLI and the worker agree on the Temporal side and the tenant's streams.
      for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'KANDJI_API_URL', 'KANDJI_STREAMS'])
        expect([name, s['start-streams']!.environment[name]]).toEqual([name, s.worker!.environment[name]]);
      expect(loadTenantConfigs(s['start-streams']!.environment).length).toBe(1);
      expect(loadTemporalConfig(s['codec-server']!.environment).encryptionKey).toBe(worker.temporal.encryptionKey);
      expect(worker.stalePolicies).toEqual(DEFAULT_STALE);
      if (envFile === simulatorsEnv) {
        expect(worker.datadogIntakeUrl).toBe('http://127.0.0.1:8082/api/v2/logs');
        expect(worker.firstTenant.streams).toEqual(['audit', 'detections', 'threats', 'behavioral-detections']);
      } else expect(worker.datadogIntakeUrl).toBe('https://http-intake.logs.datadoghq.com/api/v2/logs');
    });
  }

  it('an operator can still choose a stale-events policy for every stream from .env', () => {
    const s = composeServices(`${ENV_EXAMPLE}\nDD_STALE_EVENTS=drop\n`);
    expect(loadWorkerConfig(s.worker!.environment).stalePolicies).toEqual({
      audit: 'drop',
      detections: 'drop',
      threats: 'drop',
      'behavioral-detections': 'drop',
    });
  });
});

describe('deploy/kubernetes: the containers as their Pod specs describe them, with the ConfigMap and the example Secret', () => {
  const doc = (f: string) => parse(read(`deploy/kubernetes/${f}`));
  const config = doc('configmap.yaml').data as Record<string, string>;
  const secret = { ...doc('secret.example.yaml').stringData, KANDJI_DATADOG_ENCRYPTION_KEY: KEY } as Record<
    string,
    string
  >;
  delete secret.TEMPORAL_API_KEY; // optional: the example's placeholder would turn TLS on
  const mounts = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-pod-'));
  afterAll(() => fs.rmSync(mounts, { recursive: true }));

  const podEnv = (file: string) =>
    containerEnv(doc(file).spec.template.spec, {
      configMaps: { 'kandji-datadog': config },
      secrets: { 'kandji-datadog': secret },
      mountsDir: mounts,
    });

  it("the worker loads, reads its secrets from the mounted Secret, and keeps each stream's default stale-events policy", () => {
    const env = podEnv('deployment.yaml');
    const worker = loadWorkerConfig(env);
    expect(worker.stalePolicies).toEqual(DEFAULT_STALE);
    expect((worker.tenants[0]!.token as () => string)()).toBe(secret.KANDJI_API_TOKEN);
    expect(worker.datadogApiKeyReader!()).toBe(secret.DD_API_KEY);
    expect(worker.temporal.encryptionKey).toBe(KEY);
    expect(loadWorkerProcessOptions(env).healthPort).toBe(Number(config.HEALTH_PORT));
  });

  it('the start Job loads with no Kandji or Datadog secret', () => {
    const env = podEnv('job-start-streams.yaml');
    expect(Object.keys(env).filter((k) => /^(KANDJI_API_TOKEN|DD_API_KEY)/.test(k))).toEqual([]);
    expect(loadTemporalConfig(env).encryptionKey).toBe(KEY);
    expect(loadTenantConfigs(env)).toHaveLength(1);
  });
});

describe('deploy/kubernetes as the Datadog Agent and the cluster see it', () => {
  const doc = (f: string) => parse(read(`deploy/kubernetes/${f}`));
  const deployment = doc('deployment.yaml');
  const template = deployment.spec.template;
  const container = template.spec.containers[0];
  const config = doc('configmap.yaml').data as Record<string, string>;
  const version = (JSON.parse(read('package.json')) as { version: string }).version;
  const mib = (q: string) => Number(/^(\d+)Mi$/.exec(q)![1]);

  it('the Agent collects from unready pods, and a drain is never blocked by them (PDB maxUnavailable 1, AlwaysAllow)', () => {
    expect(template.metadata.annotations['ad.datadoghq.com/tolerate-unready']).toBe('true');
    expect(doc('poddisruptionbudget.yaml').spec).toMatchObject({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    expect(doc('poddisruptionbudget.yaml').spec.minAvailable).toBeUndefined();
  });

  it('one service name: the log annotation, Unified Service Tagging and the log lines agree', () => {
    const logs = JSON.parse(template.metadata.annotations[`ad.datadoghq.com/${container.name}.logs`]);
    expect(logs[0].service).toBe(SERVICE_NAME);
    expect(template.metadata.labels['tags.datadoghq.com/service']).toBe(SERVICE_NAME);
    expect(deployment.metadata.labels['tags.datadoghq.com/service']).toBe(SERVICE_NAME);
    expect(read('deploy/datadog/forwarder-health-dashboard.json')).toContain(`service:${SERVICE_NAME} `);
  });

  it('the image tag and the version tag are the package version (kustomization, deployment labels, README and docs)', () => {
    expect(doc('kustomization.yaml').images[0].newTag).toBe(version);
    expect(template.metadata.labels['tags.datadoghq.com/version']).toBe(version);
    expect(deployment.metadata.labels['tags.datadoghq.com/version']).toBe(version);
    const docs = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)].map(read).join('\n');
    const tags = [...docs.matchAll(/kandji-datadog:(\d+\.\d+\.\d+)/g)].map(([, tag]) => tag);
    expect(tags.length).toBeGreaterThan(0);
    for (const tag of tags) expect(tag).toBe(version);
  });

  it('memory request = limit, above the 257 MiB measured at start; the page store stays well below the heap', () => {
    const { requests, limits } = container.resources;
    expect(requests.memory).toBe(limits.memory);
    expect(mib(requests.memory)).toBeGreaterThan(257);
    const heapMb = (mib(limits.memory) * 75) / 100; // deploy/docker/entrypoint.sh: HEAP_PERCENT 75
    const pages = loadWorkerConfig({ ...config, KANDJI_API_TOKEN: 't', DD_API_KEY: 'k' }).pageStoreMaxBytes;
    expect(pages / 1048576).toBeLessThanOrEqual(heapMb / 2);
    // The default too, for a deployment that does not set it.
    expect(
      loadWorkerConfig({ KANDJI_API_URL: config.KANDJI_API_URL, KANDJI_API_TOKEN: 't', DD_API_KEY: 'k' })
        .pageStoreMaxBytes / 1048576,
    ).toBeLessThanOrEqual(heapMb / 2);
  });
});
