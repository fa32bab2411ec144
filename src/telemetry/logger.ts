/** Structured logs (pino, JSON on stdout). Secrets are redacted wherever they could appear. */
import pino, { type Logger } from 'pino';

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

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: 'kandji-datadog',
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'kandji-datadog' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
