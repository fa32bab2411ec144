/** Worker configuration from the environment, and human durations. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import {
  isLoopbackHost,
  loadTenantConfig,
  loadTemporalConfig,
  loadWorkerConfig,
  tenantFromUrl,
} from '../../src/config/env';
import { formatDuration, parseDuration } from '../../src/duration';

const TOKEN = 'kdj-token-SECRET-a1b2c3d4e5f60718';
const API_KEY = 'dd-apikey-SECRET-99887766554433221100';

const base = { KANDJI_API_URL: 'https://acme.api.kandji.io', KANDJI_API_TOKEN: TOKEN, DD_API_KEY: API_KEY };

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadWorkerConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.name).toBe('ConfigError');
    // Whatever is wrong, the secrets never show.
    expect(e.message).not.toContain(TOKEN);
    expect(e.message).not.toContain(API_KEY);
    expect(e.problems.join('\n')).not.toContain(TOKEN);
    expect(e.problems.join('\n')).not.toContain(API_KEY);
    return e;
  }
  throw new Error('expected a ConfigError');
}

/** The problems about one variable. */
const about = (e: ConfigError, name: string) => e.problems.filter((p) => p.startsWith(`${name}: `));

describe('loadWorkerConfig', () => {
  it('reads a full valid environment', () => {
    const config = loadWorkerConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'security',
      TEMPORAL_TASK_QUEUE: 'kdd',
      KANDJI_API_URL: 'http://127.0.0.1:8080/some/path',
      KANDJI_TENANT: 'acme-prod',
      KANDJI_API_TOKEN: TOKEN,
      KANDJI_POLL_INTERVAL: '2s',
      KANDJI_AUTH_RECHECK_INTERVAL: '10m',
      KANDJI_ERROR_BACKOFF: '1h30m',
      KANDJI_START_DATE: '2026-01-31T08:00:00Z',
      KANDJI_AUDIT_PAGE_SIZE: '100',
      KANDJI_AUDIT_OVERLAP: '2m',
      DD_API_KEY: API_KEY,
      DD_SITE: 'datadoghq.eu',
      DD_LOGS_URL: 'http://localhost:9090/api/v2/logs',
      DD_TAGS: 'team:secops, env:prod,,region:eu',
      DD_HOSTNAME: 'forwarder-1',
      DD_STALE_EVENTS: 'restamp',
      LOG_LEVEL: 'debug',
    });
    const { tenants, ...rest } = config;
    expect(tenants).toEqual([{ config: rest.firstTenant, token: rest.kandjiToken }]);
    expect(rest).toEqual({
      temporal: { address: 'temporal.internal:7233', namespace: 'security', taskQueue: 'kdd' },
      firstTenant: {
        kandjiUrl: 'http://127.0.0.1:8080',
        tenant: 'acme-prod',
        streams: ['audit', 'detections'],
        pollIntervalsMs: { audit: 2_000, detections: 900_000, threats: 300_000, 'behavioral-detections': 300_000 },
        behavioralWindowDays: 7,
        requestsPerHour: 5_000,
        fetchAttempts: 8,
        authRecheckMs: 600_000,
        errorBackoffMs: 5_400_000,
        startDate: '2026-01-31T08:00:00Z',
        auditPageSize: 100,
        auditOverlapMs: 120_000,
        handoffMs: 30_000,
      },
      kandjiToken: TOKEN,
      datadogApiKey: API_KEY,
      datadogIntakeUrl: 'http://localhost:9090/api/v2/logs', // DD_LOGS_URL wins over DD_SITE
      extraTags: ['team:secops', 'env:prod', 'region:eu'],
      hostname: 'forwarder-1',
      logLevel: 'debug',
      stalePolicy: 'restamp',
      stalePolicies: {
        audit: 'restamp',
        detections: 'restamp',
        threats: 'restamp',
        'behavioral-detections': 'restamp',
      },
      pageStoreMaxBytes: 128 * 1024 * 1024,
      snapshotChunkRows: 20_000,
    });
  });

  it('fills in defaults', () => {
    const { tenants, ...rest } = loadWorkerConfig({ ...base });
    expect(tenants).toEqual([{ config: rest.firstTenant, token: rest.kandjiToken }]);
    expect(rest).toEqual({
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'kandji-datadog' },
      firstTenant: {
        kandjiUrl: 'https://acme.api.kandji.io',
        tenant: 'acme',
        streams: ['audit', 'detections'],
        pollIntervalsMs: { audit: 60_000, detections: 900_000, threats: 300_000, 'behavioral-detections': 300_000 },
        behavioralWindowDays: 7,
        requestsPerHour: 5_000,
        fetchAttempts: 8,
        authRecheckMs: 300_000,
        errorBackoffMs: 30_000,
        startDate: undefined,
        auditPageSize: 500,
        auditOverlapMs: 300_000,
        handoffMs: 30_000,
      },
      kandjiToken: TOKEN,
      datadogApiKey: API_KEY,
      datadogIntakeUrl: 'https://http-intake.logs.datadoghq.com/api/v2/logs',
      extraTags: [],
      hostname: undefined,
      logLevel: 'info',
      stalePolicy: undefined,
      stalePolicies: { audit: 'ship', detections: 'restamp', threats: 'ship', 'behavioral-detections': 'restamp' },
      pageStoreMaxBytes: 128 * 1024 * 1024,
      snapshotChunkRows: 20_000,
    });
  });

  it('lists every missing required variable by name in one ConfigError', () => {
    const e = configError({});
    expect(e.problems).toHaveLength(3);
    for (const name of ['KANDJI_API_URL', 'KANDJI_API_TOKEN', 'DD_API_KEY']) {
      expect(about(e, name)).toHaveLength(1);
      expect(e.message).toContain(name);
    }
    expect(e.message.startsWith('Invalid configuration:')).toBe(true);
  });

  it('lists problems of all groups together', () => {
    const e = configError({
      KANDJI_API_URL: 'https://acme.api.kandji.io',
      KANDJI_DATADOG_ENCRYPTION_KEY: 'short',
      LOG_LEVEL: 'loud',
    });
    expect(e.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'DD_API_KEY',
      'KANDJI_API_TOKEN',
      'KANDJI_DATADOG_ENCRYPTION_KEY',
      'LOG_LEVEL',
    ]);
  });

  it("takes an empty optional variable as unset, as Compose's `${VAR:-}` passes it: its default applies", () => {
    const empty = Object.fromEntries(
      [
        'TEMPORAL_ADDRESS',
        'TEMPORAL_NAMESPACE',
        'KANDJI_DATADOG_ENCRYPTION_KEY',
        'KANDJI_STREAMS',
        'KANDJI_POLL_INTERVAL',
        'DD_LOGS_URL',
        'DD_STALE_EVENTS',
        'DD_SITE',
        'LOG_LEVEL',
        'WORKER_PAGE_MEMORY_MB',
      ].map((name) => [name, '']),
    );
    expect(loadWorkerConfig({ ...base, ...empty })).toEqual(loadWorkerConfig(base));
  });

  it('refuses empty secrets', () => {
    const e = configError({ ...base, KANDJI_API_TOKEN: '', DD_API_KEY: '' });
    expect(about(e, 'KANDJI_API_TOKEN')).toEqual(['KANDJI_API_TOKEN: must not be empty']);
    expect(about(e, 'DD_API_KEY')).toEqual(['DD_API_KEY: must not be empty']);
  });

  describe('KANDJI_API_URL', () => {
    it.each([
      ['https://acme.api.kandji.io', 'https://acme.api.kandji.io', 'acme'],
      ['https://acme.api.kandji.io/api/v1/', 'https://acme.api.kandji.io', 'acme'],
      ['https://ACME.API.KANDJI.IO', 'https://acme.api.kandji.io', 'acme'],
      ['https://acme-eu.api.eu.kandji.io', 'https://acme-eu.api.eu.kandji.io', 'acme-eu'],
      ['https://globex.api.iru.com', 'https://globex.api.iru.com', 'globex'],
      ['http://127.0.0.1:8080', 'http://127.0.0.1:8080', 'local'],
      ['http://localhost:3000', 'http://localhost:3000', 'local'],
      ['http://[::1]:3000', 'http://[::1]:3000', 'local'],
      ['https://127.0.0.1:8443', 'https://127.0.0.1:8443', 'local'],
    ])('accepts %s', (url, origin, tenant) => {
      const c = loadWorkerConfig({ ...base, KANDJI_API_URL: url });
      expect(c.firstTenant.kandjiUrl).toBe(origin);
      expect(c.firstTenant.tenant).toBe(tenant);
    });

    it.each([
      ['http://acme.api.kandji.io', /must be https/],
      ['http://10.0.0.5:8080', /must be https/],
      ['http://kandji.internal', /must be https/],
      ['https://example.com', /Kandji or Iru API host/],
      ['https://acme.api.kandji.io.evil.com', /Kandji or Iru API host/],
      ['https://api.kandji.io', /Kandji or Iru API host/],
      ['https://acme.kandji.io', /Kandji or Iru API host/],
      ['https://acme.api.kandji.com', /Kandji or Iru API host/],
      ['https://a.b.api.kandji.io', /Kandji or Iru API host/],
      ['ftp://127.0.0.1/', /expected http\(s\)/],
      ['acme.api.kandji.io', /expected a URL/],
    ])('refuses %s', (url, message) => {
      const e = configError({ ...base, KANDJI_API_URL: url });
      const problems = about(e, 'KANDJI_API_URL');
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(message);
      expect(e.problems).toHaveLength(1);
    });

    it('takes KANDJI_TENANT over the subdomain, and validates it', () => {
      expect(loadWorkerConfig({ ...base, KANDJI_TENANT: 'other' }).firstTenant.tenant).toBe('other');
      expect(about(configError({ ...base, KANDJI_TENANT: 'Acme' }), 'KANDJI_TENANT')).toHaveLength(1);
      expect(about(configError({ ...base, KANDJI_TENANT: '-acme' }), 'KANDJI_TENANT')).toHaveLength(1);
    });
  });

  describe('DD_SITE', () => {
    // The intake host of each site: https://docs.datadoghq.com/api/latest/logs/#send-logs
    it.each([
      ['datadoghq.com', 'http-intake.logs.datadoghq.com'],
      ['us3.datadoghq.com', 'http-intake.logs.us3.datadoghq.com'],
      ['us5.datadoghq.com', 'http-intake.logs.us5.datadoghq.com'],
      ['datadoghq.eu', 'http-intake.logs.datadoghq.eu'],
      ['ap1.datadoghq.com', 'http-intake.logs.ap1.datadoghq.com'],
      ['ap2.datadoghq.com', 'http-intake.logs.ap2.datadoghq.com'],
      ['uk1.datadoghq.com', 'http-intake.logs.uk1.datadoghq.com'],
      ['ddog-gov.com', 'http-intake.logs.ddog-gov.com'],
      ['us2.ddog-gov.com', 'http-intake.logs.us2.ddog-gov.com'],
    ])('%s → %s', (site, host) => {
      expect(loadWorkerConfig({ ...base, DD_SITE: site }).datadogIntakeUrl).toBe(`https://${host}/api/v2/logs`);
    });

    it('refuses an unknown site, listing the valid ones', () => {
      const e = configError({ ...base, DD_SITE: 'datadoghq.org' });
      const [problem] = about(e, 'DD_SITE');
      expect(problem).toBeDefined();
      for (const site of [
        'datadoghq.com',
        'us3.datadoghq.com',
        'us5.datadoghq.com',
        'datadoghq.eu',
        'ap1.datadoghq.com',
        'ap2.datadoghq.com',
        'uk1.datadoghq.com',
        'ddog-gov.com',
        'us2.ddog-gov.com',
      ]) {
        expect(problem).toContain(site);
      }
      expect(about(configError({ ...base, DD_SITE: 'app.datadoghq.com' }), 'DD_SITE')).toHaveLength(1);
    });
  });

  describe('DD_LOGS_URL', () => {
    it('accepts https anywhere and http on loopback', () => {
      expect(loadWorkerConfig({ ...base, DD_LOGS_URL: 'https://proxy.example.com/api/v2/logs' }).datadogIntakeUrl).toBe(
        'https://proxy.example.com/api/v2/logs',
      );
      expect(loadWorkerConfig({ ...base, DD_LOGS_URL: 'http://127.0.0.1:9/api/v2/logs' }).datadogIntakeUrl).toBe(
        'http://127.0.0.1:9/api/v2/logs',
      );
    });

    it('refuses plain http elsewhere', () => {
      const e = configError({ ...base, DD_LOGS_URL: 'http://proxy.example.com/api/v2/logs' });
      expect(about(e, 'DD_LOGS_URL')).toEqual([
        'DD_LOGS_URL: must be https (plain http is allowed only for loopback hosts)',
      ]);
      expect(e.problems).toHaveLength(1);
    });
  });

  describe('durations', () => {
    it('refuses a number without unit', () => {
      const e = configError({ ...base, KANDJI_POLL_INTERVAL: '60' });
      const problems = about(e, 'KANDJI_POLL_INTERVAL');
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain('"60"');
      // The variable name appears once, not doubled by the custom message prefix.
      expect(problems[0]!.match(/KANDJI_POLL_INTERVAL/g)).toHaveLength(1);
    });

    it('reads units and combinations', () => {
      expect(loadWorkerConfig({ ...base, KANDJI_POLL_INTERVAL: '2s' }).firstTenant.pollIntervalsMs.audit).toBe(2_000);
      expect(loadWorkerConfig({ ...base, KANDJI_POLL_INTERVAL: '1h30m' }).firstTenant.pollIntervalsMs.audit).toBe(
        5_400_000,
      );
      expect(loadWorkerConfig({ ...base, KANDJI_ERROR_BACKOFF: '500ms' }).firstTenant.errorBackoffMs).toBe(500);
    });

    it('refuses zero and garbage for each interval', () => {
      for (const name of ['KANDJI_POLL_INTERVAL', 'KANDJI_AUTH_RECHECK_INTERVAL', 'KANDJI_ERROR_BACKOFF']) {
        expect(about(configError({ ...base, [name]: '0' }), name)[0]).toMatch(/more than 0/);
        expect(about(configError({ ...base, [name]: '0s' }), name)).toHaveLength(1);
        expect(about(configError({ ...base, [name]: 'soon' }), name)).toHaveLength(1);
      }
    });
  });

  describe('KANDJI_AUDIT_PAGE_SIZE', () => {
    it.each([
      ['1', 1],
      ['500', 500],
      [' 250 ', 250],
    ])('accepts %p', (value, size) => {
      expect(loadWorkerConfig({ ...base, KANDJI_AUDIT_PAGE_SIZE: value }).firstTenant.auditPageSize).toBe(size);
    });

    it.each(['501', '0', '-5', '2.5', 'many'])('refuses %p', (value) => {
      const e = configError({ ...base, KANDJI_AUDIT_PAGE_SIZE: value });
      expect(about(e, 'KANDJI_AUDIT_PAGE_SIZE')).toHaveLength(1);
      expect(e.problems).toHaveLength(1);
    });
  });

  it('validates KANDJI_START_DATE as ISO-8601', () => {
    expect(about(configError({ ...base, KANDJI_START_DATE: 'yesterday' }), 'KANDJI_START_DATE')).toHaveLength(1);
    expect(about(configError({ ...base, KANDJI_START_DATE: '2026-02-30' }), 'KANDJI_START_DATE')).toHaveLength(1);
    expect(loadWorkerConfig({ ...base, KANDJI_START_DATE: '2026-01-31' }).firstTenant.startDate).toBe('2026-01-31');
  });

  it('never includes the token or API key in messages, whatever else is wrong', () => {
    const e = configError({
      KANDJI_API_TOKEN: TOKEN,
      DD_API_KEY: API_KEY,
      KANDJI_API_URL: 'http://acme.api.kandji.io',
      KANDJI_TENANT: 'BAD TENANT',
      KANDJI_POLL_INTERVAL: '60',
      KANDJI_AUDIT_PAGE_SIZE: '501',
      KANDJI_START_DATE: 'nope',
      DD_SITE: 'nowhere',
      DD_LOGS_URL: 'http://proxy.example.com',
      LOG_LEVEL: 'loud',
      KANDJI_DATADOG_ENCRYPTION_KEY: 'short',
    });
    expect(e.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'DD_LOGS_URL',
      'DD_SITE',
      'KANDJI_API_URL',
      'KANDJI_AUDIT_PAGE_SIZE',
      'KANDJI_DATADOG_ENCRYPTION_KEY',
      'KANDJI_POLL_INTERVAL',
      'KANDJI_START_DATE',
      'KANDJI_TENANT',
      'LOG_LEVEL',
    ]);
  });
});

describe('loadTenantConfig / loadTemporalConfig', () => {
  it('need no secrets', () => {
    expect(loadTenantConfig({ KANDJI_API_URL: 'https://acme.api.kandji.io' }).tenant).toBe('acme');
    expect(loadTemporalConfig({})).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'kandji-datadog',
    });
  });
});

describe('helpers', () => {
  it('isLoopbackHost', () => {
    for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['10.0.0.1', '128.0.0.1', 'localhost.example.com', '::1x', '0.0.0.0', 'acme.api.kandji.io'])
      expect(isLoopbackHost(h)).toBe(false);
  });

  it('tenantFromUrl', () => {
    expect(tenantFromUrl('https://acme.api.kandji.io')).toBe('acme');
    expect(tenantFromUrl('https://globex.api.eu.kandji.io')).toBe('globex');
    expect(tenantFromUrl('http://127.0.0.1:8080')).toBe('local');
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['2s', 2_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['2h0m5s250ms', 7_205_250],
    [' 30s ', 30_000],
    ['0s', 0],
  ])('%p → %i', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', ' ', '60', '5', '1.5', 's', '-1s', '1 h', '1h 30m', '1H', '10x', '5mins', '1h30', 'ms5', '1.s', '00'])(
    'rejects %p',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/is not a duration/);
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [250, '250ms'],
    [999, '999ms'],
    [1_000, '1s'],
    [1_499, '1s'],
    [59_000, '59s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [5_400_000, '90m'],
    [7_140_000, '119m'],
    [7_200_000, '2h'],
    [47 * 3_600_000, '47h'],
    [48 * 3_600_000, '2d'],
    [7 * 86_400_000, '7d'],
  ])('%i → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration for whole units', () => {
    for (const text of ['250ms', '30s', '5m', '2h', '3d']) expect(formatDuration(parseDuration(text))).toBe(text);
  });
});

describe('DD_STALE_EVENTS', () => {
  const env = {
    KANDJI_API_URL: 'https://acme.api.kandji.io',
    KANDJI_API_TOKEN: 'tok',
    DD_API_KEY: 'key',
  };
  it.each(['ship', 'restamp', 'drop'] as const)('accepts %s', (policy) => {
    expect(loadWorkerConfig({ ...env, DD_STALE_EVENTS: policy }).stalePolicy).toBe(policy);
  });
  it('refuses anything else, listing the choices', () => {
    expect(() => loadWorkerConfig({ ...env, DD_STALE_EVENTS: 'keep' })).toThrow(
      /DD_STALE_EVENTS: expected one of ship, restamp, drop/,
    );
    expect(() => loadWorkerConfig({ ...env, DD_STALE_EVENTS_DETECTIONS: 'keep' })).toThrow(
      /DD_STALE_EVENTS_DETECTIONS: expected one of ship, restamp, drop/,
    );
  });
  it('is per stream: DD_STALE_EVENTS_<STREAM>, else DD_STALE_EVENTS, else restamp for detections and ship otherwise', () => {
    expect(loadWorkerConfig(env).stalePolicies).toEqual({
      audit: 'ship',
      detections: 'restamp',
      threats: 'ship',
      'behavioral-detections': 'restamp',
    });
    expect(loadWorkerConfig({ ...env, DD_STALE_EVENTS: 'ship' }).stalePolicies).toEqual({
      audit: 'ship',
      detections: 'ship',
      threats: 'ship',
      'behavioral-detections': 'ship',
    });
    expect(
      loadWorkerConfig({
        ...env,
        DD_STALE_EVENTS: 'drop',
        DD_STALE_EVENTS_AUDIT: 'restamp',
        DD_STALE_EVENTS_THREATS: 'ship',
        DD_STALE_EVENTS_BEHAVIORAL_DETECTIONS: 'ship',
      }).stalePolicies,
    ).toEqual({
      audit: 'restamp',
      detections: 'drop',
      threats: 'ship',
      'behavioral-detections': 'ship',
    });
  });
});

describe('KANDJI_STREAMS', () => {
  const env = { KANDJI_API_URL: 'https://acme.api.kandji.io', KANDJI_API_TOKEN: 'tok', DD_API_KEY: 'key' };
  it('defaults to audit and detections; threats is opt-in', () => {
    expect(loadWorkerConfig(env).firstTenant.streams).toEqual(['audit', 'detections']);
    expect(loadWorkerConfig({ ...env, KANDJI_STREAMS: 'audit, threats,audit' }).firstTenant.streams).toEqual([
      'audit',
      'threats',
    ]);
  });
  it('refuses unknown streams and an empty list', () => {
    expect(() => loadWorkerConfig({ ...env, KANDJI_STREAMS: 'audit,devices' })).toThrow(
      /KANDJI_STREAMS: expected a comma-separated list/,
    );
    expect(() => loadWorkerConfig({ ...env, KANDJI_STREAMS: ' , ' })).toThrow(
      /KANDJI_STREAMS: name at least one stream/,
    );
  });
  it('has a poll interval per stream', () => {
    const c = loadWorkerConfig({
      ...env,
      KANDJI_DETECTIONS_POLL_INTERVAL: '30m',
      KANDJI_THREATS_POLL_INTERVAL: '2m',
    }).firstTenant;
    expect(c.pollIntervalsMs).toEqual({
      audit: 60_000,
      detections: 1_800_000,
      threats: 120_000,
      'behavioral-detections': 300_000,
    });
  });
});

describe('staleEvents in the tenants file', () => {
  const write = (text: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-stale-'));
    const file = path.join(dir, 'tenants.yaml');
    fs.writeFileSync(file, text);
    return file;
  };
  const tenant = (extra: string) =>
    write(
      `tenants:\n  - name: acme\n    apiUrl: https://acme.api.kandji.io\n    token: { env: ACME_TOKEN }\n${extra}  - name: globex\n    apiUrl: https://globex.api.kandji.io\n    token: { env: GLOBEX_TOKEN }\n`,
    );

  it("a tenant's own policy per stream; other tenants keep the worker's", () => {
    const config = loadWorkerConfig({
      KANDJI_TENANTS_FILE: tenant('    staleEvents: { detections: ship, audit: restamp }\n'),
      DD_API_KEY: 'k',
    });
    expect(config.tenants.map((t) => t.stalePolicies)).toEqual([{ detections: 'ship', audit: 'restamp' }, undefined]);
    expect(config.stalePolicies).toEqual({
      audit: 'ship',
      detections: 'restamp',
      threats: 'ship',
      'behavioral-detections': 'restamp',
    });
  });

  it('refuses an unknown policy or stream, naming the tenant and field', () => {
    expect(() =>
      loadWorkerConfig({ KANDJI_TENANTS_FILE: tenant('    staleEvents: { detections: keep }\n'), DD_API_KEY: 'k' }),
    ).toThrow(/tenant "acme": staleEvents\.detections: expected one of ship, restamp, drop/);
    expect(() =>
      loadWorkerConfig({ KANDJI_TENANTS_FILE: tenant('    staleEvents: { alerts: ship }\n'), DD_API_KEY: 'k' }),
    ).toThrow(/tenant "acme": staleEvents: unknown field "alerts"/);
  });
});
