/**
 * Configuration from the environment, validated with zod. A missing or invalid variable stops start-up with a
 * message naming it and what is expected. Split by who needs what: the CLI never needs the secrets.
 */
import { z } from 'zod';
import { ConfigError } from './config-error';
import { durationMs, isoTime, tenantName } from './edge-schemas';
import { secretFileReader } from './secret-file';
import { DATADOG_SITES, intakeUrlForSite, isDatadogSite } from '../datadog/sites';
import { STALE_POLICIES, stalePolicyFor, type StalePolicies, type StalePolicy } from '../datadog/stale-events';
import { parseDuration } from '../duration';
import { loadTenantsFile, tenantTokenProvider, type TenantEntry } from './tenants-file';
import { STREAMS, type StreamName } from '../../workflows/shared/stream-status';
import { fileTokenProvider, type TokenProvider } from '../kandji/token-source';
import {
  DEFAULT_TEMPORAL_ADDRESS,
  loadConnectionProfile,
  type TemporalConnectionProfile,
} from '../temporal/connection';
import { parseEncryptionKey } from '../temporal/encryption-codec';

type Env = Record<string, string | undefined>;

/** Secrets whose empty value is an error of its own ("must not be empty"), not a missing variable. */
const EMPTY_IS_AN_ERROR = new Set(['KANDJI_API_TOKEN', 'DD_API_KEY']);

/**
 * The environment with empty variables left out: an empty value means "not set", as Compose's `${VAR:-}` and an
 * empty line of an env file produce it, so every optional variable takes its default.
 */
export function withoutEmptyValues(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([name, value]) => value !== '' || EMPTY_IS_AN_ERROR.has(name)));
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
const KANDJI_HOST = /^[a-z0-9-]+\.api\.(?:eu\.)?kandji\.io$|^[a-z0-9-]+\.api\.(?:eu\.)?iru\.com$/i;

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

const duration = (name: string, fallback: string) => durationMs({ name, moreThanZero: true }).prefault(fallback);

const kandjiUrl = z
  .string({ error: 'required: the Kandji API URL, e.g. https://acme.api.kandji.io' })
  .transform((s, ctx) => {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `expected a URL such as https://acme.api.kandji.io, got ${JSON.stringify(s)}`,
      });
      return z.NEVER;
    }
    if (isLoopbackHost(url.hostname)) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        ctx.addIssue({ code: 'custom', message: `expected http(s), got ${url.protocol}` });
        return z.NEVER;
      }
      return url.origin;
    }
    if (url.protocol !== 'https:') {
      ctx.addIssue({
        code: 'custom',
        message: `must be https (plain http is allowed only for loopback hosts), got ${url.origin}`,
      });
      return z.NEVER;
    }
    if (!KANDJI_HOST.test(url.hostname)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a Kandji or Iru API host (<subdomain>.api.kandji.io, <subdomain>.api.eu.kandji.io, <subdomain>.api.iru.com), got ${url.hostname}`,
      });
      return z.NEVER;
    }
    return url.origin;
  });

export function tenantFromUrl(origin: string): string {
  const host = new URL(origin).hostname;
  return isLoopbackHost(host) ? 'local' : (host.split('.')[0] ?? host).toLowerCase();
}

const KEY_EXPECTED = 'expected a 32-byte key as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)';
function isEncryptionKey(s: string): boolean {
  try {
    parseEncryptionKey(s);
    return true;
  } catch {
    return false;
  }
}

const temporalSchema = z.object({
  // Defaults come after the TEMPORAL_CONFIG_FILE profile (see loadTemporalConfig).
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('kandji-datadog'),
  KANDJI_DATADOG_ENCRYPTION_KEY: z.string().refine(isEncryptionKey, KEY_EXPECTED).optional(),
  KANDJI_DATADOG_ENCRYPTION_KEYS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().refine(isEncryptionKey, `every key: ${KEY_EXPECTED}`))
        .min(1, 'list at least one key (comma-separated; the first encrypts, every one decrypts)'),
    )
    .optional(),
});

const streamSchema = z.object({
  KANDJI_API_URL: kandjiUrl,
  // The tenant: from KANDJI_TENANT, else the subdomain of KANDJI_API_URL. Used in workflow ids and tags.
  KANDJI_TENANT: tenantName.optional(),
  KANDJI_POLL_INTERVAL: duration('KANDJI_POLL_INTERVAL', '1m'),
  KANDJI_DETECTIONS_POLL_INTERVAL: duration('KANDJI_DETECTIONS_POLL_INTERVAL', '15m'),
  KANDJI_THREATS_POLL_INTERVAL: duration('KANDJI_THREATS_POLL_INTERVAL', '5m'),
  KANDJI_BEHAVIORAL_DETECTIONS_POLL_INTERVAL: duration('KANDJI_BEHAVIORAL_DETECTIONS_POLL_INTERVAL', '5m'),
  // Behavioral detections: each sweep reads the detections of this many days back (by detection_date).
  KANDJI_BEHAVIORAL_WINDOW_DAYS: z.coerce
    .number({ error: 'expected a whole number of days, e.g. 7' })
    .int('expected a whole number of days, e.g. 7')
    .min(1, 'expected at least 1 day')
    .max(365, 'expected at most 365 days')
    .default(7),
  KANDJI_STREAMS: z
    .string()
    .default('audit,detections')
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z
        .array(
          z.enum(STREAMS, {
            error: `expected a comma-separated list of ${STREAMS.join(', ')}`,
          }),
        )
        .min(1, 'name at least one stream'),
    ),
  KANDJI_AUTH_RECHECK_INTERVAL: duration('KANDJI_AUTH_RECHECK_INTERVAL', '5m'),
  KANDJI_ERROR_BACKOFF: duration('KANDJI_ERROR_BACKOFF', '30s'),
  KANDJI_START_DATE: isoTime.optional(),
  KANDJI_FETCH_ATTEMPTS: z.coerce
    .number({ error: 'expected a whole number of attempts, e.g. 8' })
    .int('expected a whole number of attempts, e.g. 8')
    .min(1, 'expected at least 1 attempt')
    .max(100, 'expected at most 100 attempts')
    .default(8),
  KANDJI_REQUESTS_PER_HOUR: z.coerce
    .number({ error: 'expected a whole number of requests per hour, e.g. 5000' })
    .int('expected a whole number of requests per hour, e.g. 5000')
    .min(1, 'expected at least 1 request per hour')
    .max(10_000, 'Kandji allows at most 10,000 requests per hour per tenant, shared by all its tokens')
    .default(5_000),
  // The late sweep reads each past hour once when the polls leave it, then again after each of these delays (at most
  // 17 h: Datadog takes logs up to 18 h old), or `off`. Default: 1h,3h,7h,12h,16.5h (workflows/shared/late-ledger.ts).
  KANDJI_AUDIT_LATE_SWEEPS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return undefined;
      if (s.trim() === 'off') return [];
      try {
        const delays = s.split(',').map((t) => parseDuration(t));
        if (delays.some((t) => t > 17 * 3_600_000))
          throw new Error('each delay must be at most 17h (Datadog takes logs up to 18 h old)');
        if (delays.some((t, i) => t <= (i > 0 ? delays[i - 1]! : 0)))
          throw new Error('list the delays in increasing order, e.g. 1h,3h,7h,12h,16.5h');
        return [0, ...delays];
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `${(e as Error).message} (or \`off\`)` });
        return z.NEVER;
      }
    }),
  KANDJI_AUDIT_OVERLAP: durationMs({ name: 'KANDJI_AUDIT_OVERLAP', atMost: '24h' }).prefault('5m'),
  KANDJI_PAGE_HANDOFF: duration('KANDJI_PAGE_HANDOFF', '30s'),
  KANDJI_AUDIT_PAGE_SIZE: z.coerce
    .number({ error: 'expected a whole number from 1 to 500' })
    .int('expected a whole number from 1 to 500')
    .min(1, 'expected a whole number from 1 to 500')
    .max(500, 'Kandji serves at most 500 audit events per page')
    .default(500),
});

const secretsSchema = z.object({
  KANDJI_API_TOKEN: z.string().min(1, 'must not be empty').optional(),
  KANDJI_TENANTS_FILE: z.string().min(1).optional(),
  DD_API_KEY: z.string({ error: 'required: a Datadog API key' }).min(1, 'must not be empty'),
  DD_SITE: z
    .string()
    .default('datadoghq.com')
    .refine(isDatadogSite, { message: `expected one of ${Object.keys(DATADOG_SITES).join(', ')}` }),
  DD_LOGS_URL: z
    .string()
    .superRefine((s, ctx) => {
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'expected a full intake URL such as https://http-intake.logs.datadoghq.com/api/v2/logs',
        });
        return;
      }
      if (!(u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname)))) {
        ctx.addIssue({ code: 'custom', message: 'must be https (plain http is allowed only for loopback hosts)' });
      }
    })
    .optional(),
  DD_TAGS: z.string().optional(),
  DD_STALE_EVENTS: z.enum(STALE_POLICIES, { error: `expected one of ${STALE_POLICIES.join(', ')}` }).optional(),
  DD_STALE_EVENTS_AUDIT: z.enum(STALE_POLICIES, { error: `expected one of ${STALE_POLICIES.join(', ')}` }).optional(),
  DD_STALE_EVENTS_DETECTIONS: z
    .enum(STALE_POLICIES, { error: `expected one of ${STALE_POLICIES.join(', ')}` })
    .optional(),
  DD_STALE_EVENTS_THREATS: z.enum(STALE_POLICIES, { error: `expected one of ${STALE_POLICIES.join(', ')}` }).optional(),
  DD_STALE_EVENTS_BEHAVIORAL_DETECTIONS: z
    .enum(STALE_POLICIES, { error: `expected one of ${STALE_POLICIES.join(', ')}` })
    .optional(),
  DD_HOSTNAME: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * `<NAME>_FILE`: the secret NAME read from a file (Compose `secrets:`, a mounted Kubernetes Secret) instead of the
 * environment. Read once here (a missing or empty file fails start-up, naming it); `reader` re-reads it when it
 * changes, for a rotation without restart. Setting both NAME and NAME_FILE is refused.
 */
function secretFromFile(
  env: Env,
  name: 'KANDJI_API_TOKEN' | 'DD_API_KEY' | 'TEMPORAL_API_KEY',
): { file: string; value: string; reader: () => string } | undefined {
  const file = env[`${name}_FILE`];
  if (file === undefined) return undefined;
  if (env[name] !== undefined) throw new ConfigError([`${name}_FILE: set either it or ${name}, not both`]);
  const read = secretFileReader(file);
  const first = read();
  if ('problem' in first) throw new ConfigError([`${name}_FILE: ${first.problem}`]);
  const reader = () => {
    const current = read();
    if ('problem' in current) throw new Error(`${name}_FILE: ${current.problem}`);
    return current.value;
  };
  return { file, value: first.value, reader };
}

function parse<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((i) => {
      const name = String(i.path[0] ?? '');
      const msg = i.message.startsWith(`${name}: `) ? i.message.slice(name.length + 2) : i.message;
      return `${name}: ${msg}`;
    }),
  );
}

export interface TemporalConfig extends Pick<TemporalConnectionProfile, 'tls' | 'apiKey' | 'metadata'> {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Payload encryption key (secret: never log it): the one new payloads are encrypted with (`encryptionKeys[0]`). */
  encryptionKey?: string;
  /** TEMPORAL_API_KEY_FILE, when the API key comes from a file: the worker re-reads it and rotates the key. */
  apiKeyFile?: string;
  /**
   * Every payload key (secrets), when encryption is on: the first encrypts, any decrypts (rotation). From
   * KANDJI_DATADOG_ENCRYPTION_KEYS, or KANDJI_DATADOG_ENCRYPTION_KEY alone. Workers and clients must share them.
   */
  encryptionKeys?: string[];
}

/** Temporal's standard client variables and config file profile (src/temporal/connection.ts), then our own. */
export function loadTemporalConfig(rawEnv: Env = process.env): TemporalConfig {
  const keyFile = secretFromFile(withoutEmptyValues(rawEnv), 'TEMPORAL_API_KEY');
  const env: Env = { ...withoutEmptyValues(rawEnv), ...(keyFile ? { TEMPORAL_API_KEY: keyFile.value } : {}) };
  const c = parse(temporalSchema, env);
  if (c.KANDJI_DATADOG_ENCRYPTION_KEY && c.KANDJI_DATADOG_ENCRYPTION_KEYS) {
    throw new ConfigError([
      'KANDJI_DATADOG_ENCRYPTION_KEYS: set either it or KANDJI_DATADOG_ENCRYPTION_KEY, not both (list the key of KANDJI_DATADOG_ENCRYPTION_KEY in KANDJI_DATADOG_ENCRYPTION_KEYS)',
    ]);
  }
  const keys =
    c.KANDJI_DATADOG_ENCRYPTION_KEYS ??
    (c.KANDJI_DATADOG_ENCRYPTION_KEY ? [c.KANDJI_DATADOG_ENCRYPTION_KEY] : undefined);
  let profile: TemporalConnectionProfile;
  try {
    profile = loadConnectionProfile(env);
  } catch (err) {
    const file = env.TEMPORAL_CONFIG_FILE ? ` of TEMPORAL_CONFIG_FILE (${env.TEMPORAL_CONFIG_FILE})` : '';
    const source = env.TEMPORAL_PROFILE
      ? `TEMPORAL_PROFILE (${env.TEMPORAL_PROFILE})${file}`
      : file
        ? file.slice(4)
        : 'TEMPORAL_TLS_*';
    throw new ConfigError([`${source}: ${(err as Error).message}`], { cause: err });
  }
  const { address, namespace, ...secured } = profile;
  return {
    address: address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: namespace ?? 'default',
    taskQueue: c.TEMPORAL_TASK_QUEUE,
    ...(keys ? { encryptionKey: keys[0], encryptionKeys: keys } : {}),
    ...(keyFile ? { apiKeyFile: keyFile.file } : {}),
    ...secured,
  };
}

export interface TenantConfig {
  kandjiUrl: string;
  tenant: string;
  /** Streams this tenant runs (KANDJI_STREAMS; threats is opt-in: it needs one more token permission). */
  streams: StreamName[];
  /** Wait between polls (audit) or sweeps (detections, threats, behavioral detections) once caught up. */
  pollIntervalsMs: Record<StreamName, number>;
  /** Days back each sweep of behavioral detections reads (KANDJI_BEHAVIORAL_WINDOW_DAYS, tenants file). */
  behavioralWindowDays: number;
  authRecheckMs: number;
  errorBackoffMs: number;
  startDate?: string;
  auditPageSize: number;
  auditOverlapMs: number;
  /** All Kandji requests of the tenant, every stream and worker together, per sliding hour. */
  requestsPerHour: number;
  /** Attempts of a Kandji read before its error shows in status. */
  fetchAttempts: number;
  /** Tags this tenant's logs carry besides DD_TAGS (tenants file). */
  extraTags?: string[];
  /** How long a ship waits for the worker holding its page before the page is read again elsewhere. */
  handoffMs: number;
  /** Ages (after an hour ended) at which the late sweep re-reads it; [] = off; absent = the default tiers. */
  lateSweepTiersMs?: number[];
}

/**
 * Every tenant to serve: from KANDJI_TENANTS_FILE when set (env variables then give the defaults), else the one
 * tenant of KANDJI_API_URL. No secrets are read here.
 */
export function loadTenantConfigs(rawEnv: Env = process.env): { config: TenantConfig; entry?: TenantEntry }[] {
  const env = withoutEmptyValues(rawEnv);
  if (!env.KANDJI_TENANTS_FILE) return [{ config: loadTenantConfig(env) }];
  const entries = loadTenantsFile(env.KANDJI_TENANTS_FILE);
  const problems: string[] = [];
  const out: { config: TenantConfig; entry: TenantEntry }[] = [];
  for (const entry of entries) {
    try {
      const base = loadTenantConfig({ ...env, KANDJI_API_URL: entry.apiUrl, KANDJI_TENANT: entry.name });
      out.push({
        entry,
        config: {
          ...base,
          streams: entry.streams ?? base.streams,
          pollIntervalsMs: { ...base.pollIntervalsMs, ...entry.pollIntervals },
          requestsPerHour: entry.requestsPerHour ?? base.requestsPerHour,
          behavioralWindowDays: entry.behavioralWindowDays ?? base.behavioralWindowDays,
          extraTags: entry.tags ?? [],
        },
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // Never quote the file's value (", got …"): it could be a token pasted in the wrong field.
      const fromFile = (p: string) =>
        p.startsWith('KANDJI_API_URL') ? p.replace(/^KANDJI_API_URL/, 'apiUrl').replace(/, got [\s\S]*$/, '') : p;
      problems.push(...err.problems.map((p) => `KANDJI_TENANTS_FILE: tenant "${entry.name}": ${fromFile(p)}`));
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

export function loadTenantConfig(env: Env = process.env): TenantConfig {
  const c = parse(streamSchema, withoutEmptyValues(env));
  return {
    kandjiUrl: c.KANDJI_API_URL,
    tenant: c.KANDJI_TENANT ?? tenantFromUrl(c.KANDJI_API_URL),
    streams: c.KANDJI_STREAMS,
    pollIntervalsMs: {
      audit: c.KANDJI_POLL_INTERVAL,
      detections: c.KANDJI_DETECTIONS_POLL_INTERVAL,
      threats: c.KANDJI_THREATS_POLL_INTERVAL,
      'behavioral-detections': c.KANDJI_BEHAVIORAL_DETECTIONS_POLL_INTERVAL,
    },
    behavioralWindowDays: c.KANDJI_BEHAVIORAL_WINDOW_DAYS,
    authRecheckMs: c.KANDJI_AUTH_RECHECK_INTERVAL,
    errorBackoffMs: c.KANDJI_ERROR_BACKOFF,
    startDate: c.KANDJI_START_DATE,
    auditPageSize: c.KANDJI_AUDIT_PAGE_SIZE,
    auditOverlapMs: c.KANDJI_AUDIT_OVERLAP,
    requestsPerHour: c.KANDJI_REQUESTS_PER_HOUR,
    fetchAttempts: c.KANDJI_FETCH_ATTEMPTS,
    handoffMs: c.KANDJI_PAGE_HANDOFF,
    ...(c.KANDJI_AUDIT_LATE_SWEEPS ? { lateSweepTiersMs: c.KANDJI_AUDIT_LATE_SWEEPS } : {}),
  };
}

export interface WorkerConfig {
  temporal: TemporalConfig;
  /** The first (or only) tenant. */
  firstTenant: TenantConfig;
  /** KANDJI_API_TOKEN (single tenant; tests override it to swap the first tenant's token). */
  kandjiToken?: string;
  /**
   * Every tenant this worker serves, with its token (secret: never log it) or, from a tenants file, the function
   * that reads it when a request needs it (a missing one blocks that tenant only; a token file is re-read on change).
   */
  tenants: { config: TenantConfig; token: string | TokenProvider; stalePolicies?: StalePolicies }[];
  /** DD_API_KEY (secret: never log it); from DD_API_KEY_FILE, its content at start. */
  datadogApiKey: string;
  /** With DD_API_KEY_FILE: the current key, the file re-read when it changes (rotation without restart). */
  datadogApiKeyReader?: () => string;
  datadogIntakeUrl: string;
  extraTags: string[];
  /** DD_STALE_EVENTS as set (every stream), if it is. */
  stalePolicy?: StalePolicy;
  /**
   * Each stream's policy for events past Datadog's 18-hour window: DD_STALE_EVENTS_<STREAM>, else DD_STALE_EVENTS,
   * else the stream's default (detections `restamp`, audit and threats `ship`). A tenant's `staleEvents` wins.
   */
  stalePolicies: Record<StreamName, StalePolicy>;
  hostname?: string;
  logLevel: string;
  /** Bytes of fetched pages a worker holds until they are shipped (WORKER_PAGE_MEMORY_MB). */
  pageStoreMaxBytes: number;
  /** Rows per chunk of a snapshot stream's durable state (KANDJI_SNAPSHOT_CHUNK_ROWS). */
  snapshotChunkRows: number;
}

const workerTuningSchema = z.object({
  WORKER_PAGE_MEMORY_MB: z.coerce
    .number({ error: 'expected a whole number of megabytes, e.g. 128' })
    .int('expected a whole number of megabytes, e.g. 128')
    .min(16, 'expected at least 16 MB')
    // Well below the heap of the smallest pod we ship (384 MB with a 512Mi limit), which also holds everything else.
    .default(128),
  KANDJI_SNAPSHOT_CHUNK_ROWS: z.coerce
    .number({ error: 'expected a whole number of rows, e.g. 20000' })
    .int('expected a whole number of rows, e.g. 20000')
    .min(100, 'expected at least 100 rows')
    .max(24_000, 'a chunk of more than 24,000 rows would exceed 256 KB')
    .default(20_000),
});

/** Everything the worker needs; collects the problems of every variable before failing. */
export function loadWorkerConfig(rawEnv: Env = process.env): WorkerConfig {
  const env = withoutEmptyValues(rawEnv);
  const problems: string[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
      return undefined;
    }
  };
  const temporal = attempt(() => loadTemporalConfig(env));
  const configs = attempt(() => loadTenantConfigs(env));
  const tokenFile = attempt(() => secretFromFile(env, 'KANDJI_API_TOKEN'));
  const keyFile = attempt(() => secretFromFile(env, 'DD_API_KEY'));
  const secrets = attempt(() =>
    parse(secretsSchema, {
      ...env,
      // A file that could not be read is already reported (as NAME_FILE): not once more as a missing NAME.
      ...(env.KANDJI_API_TOKEN_FILE !== undefined ? { KANDJI_API_TOKEN: tokenFile?.value ?? 'see _FILE' } : {}),
      ...(env.DD_API_KEY_FILE !== undefined ? { DD_API_KEY: keyFile?.value ?? 'see _FILE' } : {}),
    }),
  );
  const tuning = attempt(() => parse(workerTuningSchema, env));
  if (!env.KANDJI_TENANTS_FILE && env.KANDJI_API_TOKEN === undefined && env.KANDJI_API_TOKEN_FILE === undefined) {
    problems.push('KANDJI_API_TOKEN: required: a Kandji API token with the "List Audit Events" permission');
  }
  const tenants = (configs ?? []).flatMap(({ config, entry }): WorkerConfig['tenants'] => {
    if (entry)
      return [
        {
          config,
          token: tenantTokenProvider(entry, env),
          ...(entry.staleEvents ? { stalePolicies: entry.staleEvents } : {}),
        },
      ];
    if (tokenFile) return [{ config, token: fileTokenProvider(config.tenant, tokenFile.file) }];
    return secrets?.KANDJI_API_TOKEN ? [{ config, token: secrets.KANDJI_API_TOKEN }] : [];
  });
  if (problems.length || !temporal || !configs || !secrets || !tuning || !tenants[0]) throw new ConfigError(problems);
  return {
    temporal,
    firstTenant: tenants[0].config,
    ...(env.KANDJI_TENANTS_FILE || tokenFile ? {} : { kandjiToken: secrets.KANDJI_API_TOKEN }),
    tenants,
    datadogApiKey: secrets.DD_API_KEY,
    ...(keyFile ? { datadogApiKeyReader: keyFile.reader } : {}),
    datadogIntakeUrl: secrets.DD_LOGS_URL ?? intakeUrlForSite(secrets.DD_SITE as keyof typeof DATADOG_SITES),
    extraTags: (secrets.DD_TAGS ?? '').split(/[,\s]+/).filter(Boolean),
    stalePolicy: secrets.DD_STALE_EVENTS,
    stalePolicies: {
      audit: stalePolicyFor('audit', undefined, { audit: secrets.DD_STALE_EVENTS_AUDIT }, secrets.DD_STALE_EVENTS),
      detections: stalePolicyFor(
        'detections',
        undefined,
        { detections: secrets.DD_STALE_EVENTS_DETECTIONS },
        secrets.DD_STALE_EVENTS,
      ),
      threats: stalePolicyFor(
        'threats',
        undefined,
        { threats: secrets.DD_STALE_EVENTS_THREATS },
        secrets.DD_STALE_EVENTS,
      ),
      'behavioral-detections': stalePolicyFor(
        'behavioral-detections',
        undefined,
        { 'behavioral-detections': secrets.DD_STALE_EVENTS_BEHAVIORAL_DETECTIONS },
        secrets.DD_STALE_EVENTS,
      ),
    },
    hostname: secrets.DD_HOSTNAME,
    logLevel: secrets.LOG_LEVEL,
    pageStoreMaxBytes: tuning.WORKER_PAGE_MEMORY_MB * 1024 * 1024,
    snapshotChunkRows: tuning.KANDJI_SNAPSHOT_CHUNK_ROWS,
  };
}
