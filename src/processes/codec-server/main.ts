/**
 * `npm run codec-server`: serves /encode and /decode for the Temporal Web UI (Settings → Codec Server, or the dev
 * server's --ui-codec-endpoint). Uses KANDJI_DATADOG_ENCRYPTION_KEYS (or _KEY) like the workers.
 * CODEC_SERVER_PORT (8888), CODEC_SERVER_HOST (127.0.0.1), CODEC_SERVER_ORIGINS (comma-separated UI origins),
 * CODEC_SERVER_TOKEN (bearer token; required when CODEC_SERVER_HOST is not loopback).
 */
import { startCodecServer } from './codec-server';
import { ConfigError } from '../../config/config-error';
import { loadTemporalConfig } from '../../config/env';
import { payloadCodecs } from '../../temporal/data-converter';

async function main(): Promise<void> {
  let keys: string[] | undefined;
  try {
    keys = loadTemporalConfig().encryptionKeys;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const port = Number(process.env.CODEC_SERVER_PORT ?? 8888);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`CODEC_SERVER_PORT: expected a port number, got ${process.env.CODEC_SERVER_PORT}\n`);
    process.exit(2);
  }
  const server = await startCodecServer({
    codecs: payloadCodecs(keys),
    port,
    host: process.env.CODEC_SERVER_HOST || '127.0.0.1',
    allowedOrigins: process.env.CODEC_SERVER_ORIGINS?.split(',').map((s) => s.trim()),
    token: process.env.CODEC_SERVER_TOKEN || undefined,
  }).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  });
  const encryption = keys ? `on, ${keys.length} key${keys.length > 1 ? 's' : ''}` : 'off';
  process.stdout.write(
    `codec server on ${server.url} (encryption ${encryption}); point the Temporal UI's codec endpoint here\n`,
  );
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
