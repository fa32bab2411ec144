/**
 * Structured logs (pino, JSON on stdout), one line per entry with a string `level` (`info`, `warn`, …) that Datadog
 * maps to the log's status, and the `service` the Datadog Agent's log annotation names too. Secrets are redacted
 * wherever they could appear.
 */
import pino, { type Logger } from 'pino';

/** The forwarder's own service in Datadog: its log lines and the Agent's log and metric annotations. */
export const SERVICE_NAME = 'kandji-datadog';

export const REDACT_PATHS = [
  'token',
  'apiKey',
  'authorization',
  '*.token',
  '*.apiKey',
  '*.authorization',
  'headers.authorization',
  'headers["dd-api-key"]',
  '*.kandjiToken',
  '*.datadogApiKey',
  'kandjiToken',
  'datadogApiKey',
  'KANDJI_API_TOKEN',
  'DD_API_KEY',
  'encryptionKey',
  '*.encryptionKey',
  'KANDJI_DATADOG_ENCRYPTION_KEY',
  'encryptionKeys',
  '*.encryptionKeys',
  'KANDJI_DATADOG_ENCRYPTION_KEYS',
];

/**
 * Replaces a secret by `[redacted]`; a boolean at a secret's path (`apiKey: true`, whether one is set) is no secret
 * and stays.
 */
export function censorSecret(value: unknown): unknown {
  return typeof value === 'boolean' ? value : '[redacted]';
}

/**
 * Errors logged under `error` (the SDK's own lines, e.g. "Activity failed") or `err`: their type, message, stack and
 * every `cause` below them, nested. Plain JSON would keep only an Error's enumerable fields: no message, no stack.
 * An ApplicationFailure is typed by its failure type (KandjiRateLimitedError, …) rather than by its class.
 */
export function serializeError(value: unknown): unknown {
  const out = pino.stdSerializers.errWithCause(value as Error) as unknown;
  if (out === value || typeof out !== 'object' || out === null) return out;
  const failureType = (value as { type?: unknown }).type;
  return typeof failureType === 'string' ? { ...out, type: failureType } : out;
}

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: SERVICE_NAME,
      level,
      redact: { paths: REDACT_PATHS, censor: censorSecret },
      base: { service: SERVICE_NAME },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError, error: serializeError },
    },
    destination,
  );
}

/** A log entry of the Temporal SDK (its Runtime logger). */
export interface SdkLogEntry {
  level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  message: string;
  meta?: Record<string, unknown>;
}

/**
 * Writes the SDK's own log lines through the service's logger, marked `sdk: true`. The task token the SDK puts on
 * its activity lines is left out: noise in a log, and whoever holds it can complete the activity.
 */
export function forwardSdkLog(logger: Logger): (entry: SdkLogEntry) => void {
  return (entry) => {
    const level =
      entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
    const { taskToken: _taskToken, ...meta } = entry.meta ?? {};
    logger[level]({ ...meta, sdk: true }, entry.message);
  };
}
