/**
 * A codec server for the Temporal Web UI and `temporal` CLI: POST /encode and /decode with
 * `{ "payloads": [{ "metadata": {k: base64}, "data": base64 }] }`, as Temporal's codec-server protocol defines.
 * The UI (configured with --ui-codec-endpoint or in its settings) then shows decoded, decrypted payloads.
 * Binds loopback by default; anyone who can reach it can read decoded payloads, so it refuses to bind any other
 * address without a token, and compares tokens in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codecs: PayloadCodec[];
  port?: number;
  host?: string;
  /** Origins allowed by CORS (the UI's), e.g. http://localhost:8233. */
  allowedOrigins?: string[];
  /** When set, requests must carry `Authorization: Bearer <token>`. Required to bind anything but loopback. */
  token?: string;
}

/** Loopback listen addresses: the only ones the codec server binds without a token. */
export function isLoopbackListenHost(host: string): boolean {
  return /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(?:\.\d{1,3}){3})$/i.test(host);
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether an Authorization header carries the token, in time independent of where they differ: both sides are
 * hashed to equal-length digests first (timingSafeEqual needs equal lengths, and the token's length stays hidden).
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  return timingSafeEqual(digest(header ?? ''), digest(`Bearer ${token}`));
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: p.data !== undefined ? Buffer.from(p.data, 'base64') : undefined,
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

export async function runCodec(
  codecs: PayloadCodec[],
  op: 'encode' | 'decode',
  payloads: Payload[],
): Promise<Payload[]> {
  let out = payloads;
  const order = op === 'encode' ? codecs : [...codecs].reverse();
  for (const codec of order) out = await codec[op](out);
  return out;
}

export function startCodecServer(opts: CodecServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const host = opts.host ?? '127.0.0.1';
  if (!opts.token && !isLoopbackListenHost(host)) {
    return Promise.reject(
      new Error(
        `codec server: refusing to listen on ${host} without a token: anyone reaching it could read decoded payloads. Set CODEC_SERVER_TOKEN, or listen on 127.0.0.1`,
      ),
    );
  }
  const allowed = new Set(opts.allowedOrigins ?? ['http://localhost:8233', 'http://127.0.0.1:8233']);
  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-headers', 'content-type,x-namespace,authorization');
      res.setHeader('access-control-allow-methods', 'POST,OPTIONS');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const op = req.url === '/encode' ? 'encode' : req.url === '/decode' ? 'decode' : undefined;
    if (!op || req.method !== 'POST')
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    if (opts.token && !bearerMatches(req.headers.authorization, opts.token)) {
      return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 16 * 1024 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
          if (!Array.isArray(body.payloads)) throw new Error('expected {"payloads": [...]}');
          const out = await runCodec(opts.codecs, op, body.payloads.map(fromJson));
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payloads: out.map(toJson) }));
        } catch (err) {
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: (err as Error).message }));
        }
      })();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8888, host, () => {
      const addr = server.address() as { port: number };
      resolve({
        url: `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${addr.port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
