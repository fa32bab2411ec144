/**
 * Payload codecs: gzip and AES-256-GCM round trips, the codec server the Temporal UI calls, and a real workflow
 * whose stored history holds no Kandji record in plain text.
 */
import crypto, { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import {
  decodeFromPayloadsAtIndex,
  encodeToPayloads,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow';
import { loadTemporalConfig } from '../../src/config/env';
import { bearerMatches, startCodecServer, runCodec } from '../../src/processes/codec-server/codec-server';
import { streamReport } from '../../src/streams/stream-control';
import { connectClient } from '../../src/temporal/client';
import { CompressionCodec, GZIP_ENCODING } from '../../src/temporal/compression-codec';
import { buildDataConverter, payloadCodecs } from '../../src/temporal/data-converter';
import { ENCRYPTED_ENCODING, EncryptionCodec, keyIdOf, parseEncryptionKey } from '../../src/temporal/encryption-codec';
import { rawHistories } from '../../src/temporal/raw-history';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const text = (s: string) => new TextEncoder().encode(s);
const payload = (data: string): Payload => ({ metadata: { encoding: text('json/plain') }, data: text(data) });
const KEY = randomBytes(32).toString('base64');

describe('codecs', () => {
  it('gzips large payloads and leaves small ones, round trip exact', async () => {
    const codec = new CompressionCodec(1024);
    const big = payload(JSON.stringify({ x: 'kandji '.repeat(2_000) }));
    const small = payload('{"a":1}');
    const [eb, es] = await codec.encode([big, small]);
    expect(new TextDecoder().decode(eb!.metadata!.encoding!)).toBe(GZIP_ENCODING);
    expect(eb!.data!.length).toBeLessThan(big.data!.length / 10);
    expect(es).toBe(small);
    const [db, ds] = await codec.decode([eb!, es!]);
    expect(Buffer.from(db!.data!)).toEqual(Buffer.from(big.data!));
    expect(new TextDecoder().decode(db!.metadata!.encoding!)).toBe('json/plain');
    expect(ds).toBe(small);
  });

  it('encrypts every payload, decrypts exactly, and refuses tampering or another key', async () => {
    const codec = new EncryptionCodec(parseEncryptionKey(KEY));
    const p = payload('{"id":"01JNGZW47KZKPXE1JWCFE4PHDW","secret":"FileVault key"}');
    const [e] = await codec.encode([p]);
    expect(new TextDecoder().decode(e!.metadata!.encoding!)).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(e!.data!).toString('latin1')).not.toContain('FileVault');
    const [d] = await codec.decode([e!]);
    expect(Buffer.from(d!.data!)).toEqual(Buffer.from(p.data!));
    const tampered = { ...e!, data: Buffer.from(e!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(codec.decode([tampered])).rejects.toThrow();
    const other = new EncryptionCodec(randomBytes(32));
    await expect(other.decode([e!])).rejects.toThrow(/encrypted with key/);
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => parseEncryptionKey('short')).toThrow(/32-byte key/);
    expect(() => parseEncryptionKey(randomBytes(16).toString('base64'))).toThrow(/32-byte key/);
    expect(parseEncryptionKey(randomBytes(32).toString('hex'))).toHaveLength(32);
  });

  it('compresses before encrypting, and decodes in reverse', async () => {
    const codecs = payloadCodecs(KEY);
    const big = payload(JSON.stringify({ x: 'audit '.repeat(5_000) }));
    const [e] = await runCodec(codecs, 'encode', [big]);
    expect(e!.data!.length).toBeLessThan(big.data!.length / 10);
    const [d] = await runCodec(codecs, 'decode', [e!]);
    expect(Buffer.from(d!.data!)).toEqual(Buffer.from(big.data!));
  });

  it('serves /decode and /encode for the Temporal UI, with CORS and an optional token', async () => {
    const server = await startCodecServer({
      codecs: payloadCodecs(KEY),
      port: 0,
      token: 'ui-token',
      allowedOrigins: ['http://localhost:8233'],
    });
    try {
      const original = payload('{"hello":"ui"}');
      const asJson = (p: Payload) => ({
        metadata: Object.fromEntries(
          Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
        ),
        data: Buffer.from(p.data!).toString('base64'),
      });
      const post = (path: string, body: unknown, token = 'ui-token') =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            origin: 'http://localhost:8233',
            authorization: `Bearer ${token}`,
          },
          body: JSON.stringify(body),
        });
      const encoded = await post('/encode', { payloads: [asJson(original)] });
      expect(encoded.status).toBe(200);
      expect(encoded.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      const { payloads } = (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
      const decoded = await post('/decode', { payloads });
      const back = (await decoded.json()) as { payloads: { data: string }[] };
      expect(Buffer.from(back.payloads[0]!.data, 'base64').toString()).toBe('{"hello":"ui"}');
      expect((await post('/decode', { payloads }, 'wrong')).status).toBe(401);
      expect((await post('/decode', { nope: 1 })).status).toBe(400);
    } finally {
      await server.close();
    }
  });
});

describe('codec server security', () => {
  it('refuses to listen off loopback without a token', async () => {
    await expect(startCodecServer({ codecs: payloadCodecs(KEY), port: 0, host: '0.0.0.0' })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without a token.*CODEC_SERVER_TOKEN/,
    );
    const open = await startCodecServer({
      codecs: payloadCodecs(KEY),
      port: 0,
      host: '0.0.0.0',
      token: 'shared-secret',
    });
    await open.close();
    const local = await startCodecServer({ codecs: payloadCodecs(KEY), port: 0, host: '127.0.0.1' });
    await local.close();
  });

  it('compares tokens in constant time, over equal-length digests', () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      expect(bearerMatches('Bearer ui-token', 'ui-token')).toBe(true);
      expect(bearerMatches('Bearer ui-token-but-longer', 'ui-token')).toBe(false);
      expect(bearerMatches('Bearer x', 'ui-token')).toBe(false);
      expect(bearerMatches(undefined, 'ui-token')).toBe(false);
      expect(spy).toHaveBeenCalledTimes(4);
      for (const [a, b] of spy.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('encryption key rotation', () => {
  const OLD = randomBytes(32).toString('base64');
  const NEW = randomBytes(32).toString('hex');

  it('reads KANDJI_DATADOG_ENCRYPTION_KEYS (first encrypts) or the single KANDJI_DATADOG_ENCRYPTION_KEY, never both', () => {
    expect(loadTemporalConfig({ KANDJI_DATADOG_ENCRYPTION_KEYS: ` ${NEW}, ${OLD} ` })).toMatchObject({
      encryptionKey: NEW,
      encryptionKeys: [NEW, OLD],
    });
    expect(loadTemporalConfig({ KANDJI_DATADOG_ENCRYPTION_KEY: OLD })).toMatchObject({
      encryptionKey: OLD,
      encryptionKeys: [OLD],
    });
    expect(() => loadTemporalConfig({ KANDJI_DATADOG_ENCRYPTION_KEYS: `${NEW},short` })).toThrow(
      /KANDJI_DATADOG_ENCRYPTION_KEYS: every key: expected a 32-byte key/,
    );
    expect(() =>
      loadTemporalConfig({ KANDJI_DATADOG_ENCRYPTION_KEYS: NEW, KANDJI_DATADOG_ENCRYPTION_KEY: OLD }),
    ).toThrow(/not both/);
    let message = '';
    try {
      loadTemporalConfig({ KANDJI_DATADOG_ENCRYPTION_KEYS: `${NEW},short` });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain(NEW);
  });

  it('decodes through the data converter what the old key set encoded, after the rotation', async () => {
    const value = {
      records: [{ id: 'evt-1', occurred_at: '2026-11-27T06:00:00Z', blob: 'edr '.repeat(1_000) }],
      small: 'x',
    };
    const before = loadDataConverter(buildDataConverter([OLD]));
    const after = loadDataConverter(buildDataConverter([NEW, OLD]));
    const written = (await encodeToPayloads(before, value, 'small'))!;
    expect(written.map((p) => Buffer.from(p.metadata!['encryption-key-id']!).toString())).toEqual([
      keyIdOf(parseEncryptionKey(OLD)),
      keyIdOf(parseEncryptionKey(OLD)),
    ]);
    expect(await decodeFromPayloadsAtIndex(after, 0, written)).toEqual(value);
    expect(await decodeFromPayloadsAtIndex(after, 1, written)).toBe('small');
    // New payloads use the new key; a converter that never had it refuses them, naming the key id.
    const rewritten = (await encodeToPayloads(after, value))!;
    expect(Buffer.from(rewritten[0]!.metadata!['encryption-key-id']!).toString()).toBe(
      keyIdOf(parseEncryptionKey(NEW)),
    );
    await expect(decodeFromPayloadsAtIndex(before, 0, rewritten)).rejects.toThrow(
      /not among the configured keys.*KANDJI_DATADOG_ENCRYPTION_KEYS/,
    );
    // Once the old key is dropped, the new one alone reads what it wrote.
    expect(await decodeFromPayloadsAtIndex(loadDataConverter(buildDataConverter([NEW])), 0, rewritten)).toEqual(value);
    // A payload without key id (none is written today) is tried with every key.
    const [bare] = await new EncryptionCodec(parseEncryptionKey(OLD)).encode([payload('{"a":1}')]);
    delete bare!.metadata!['encryption-key-id'];
    const [back] = await new EncryptionCodec([parseEncryptionKey(NEW), parseEncryptionKey(OLD)]).decode([bare!]);
    expect(Buffer.from(back!.data!).toString()).toBe('{"a":1}');
  });
});

describe('a workflow with payload encryption', () => {
  let h: Harness;
  afterAll(async () => {
    await h?.close();
  });

  it('stores no Kandji record in plain text, and the CLI-side client still reads status', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 300, from: new Date(now - 3_600_000), to: new Date(now - 60_000) }, seed: 31 },
      env: { KANDJI_DATADOG_ENCRYPTION_KEY: KEY },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * 3_600_000).toISOString());
    await waitFor('shipped', () => h.datadog.received.length >= 300, 60_000);
    const status = await h.waitForState('caught_up', 'audit', 30_000);
    expect(status.counts.shipped).toBe(300);

    const stored = Buffer.concat(await rawHistories(h.client, h.auditHandle().workflowId)).toString('latin1');
    const records = h.kandji.audit.all();
    for (const r of records.slice(0, 50)) expect(stored).not.toContain(r.id);
    // The workflow id and task queue (tenant name) are metadata, not payloads; Kandji data is all in payloads.
    for (const needle of ['occurred_at', 'target_type', 'new_state', 'actor_id', 'digestFrom'])
      expect(stored).not.toContain(needle);
    expect(stored).toContain(ENCRYPTED_ENCODING);
  });
});

describe('rotating the encryption key under a running stream', () => {
  let h: Harness;
  afterAll(async () => {
    await h?.close();
  });

  it('keeps the stream running: workers with the rotated key set replay old payloads and write new ones', async () => {
    const OLD = randomBytes(32).toString('base64');
    const NEW = randomBytes(32).toString('base64');
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 200, from: new Date(now - 3_600_000), to: new Date(now - 60_000) }, seed: 32 },
      env: { KANDJI_DATADOG_ENCRYPTION_KEY: OLD },
    });
    const before = await h.startWorker();
    await h.startAudit(new Date(now - 2 * 3_600_000).toISOString());
    await waitFor('shipped with the old key', () => h.datadog.received.length >= 200, 60_000);
    await h.waitForState('caught_up', 'audit', 30_000);
    await h.killWorker(before);

    // Rotation: the new key encrypts, the old one still decrypts (histories in flight).
    await h.startWorker({}, buildDataConverter([NEW, OLD]));
    h.kandji.audit.startLive({ perSecond: 20 });
    await waitFor('new events', () => h.kandji.audit.size >= 260, 30_000);
    h.kandji.audit.stopLive();
    const total = h.kandji.audit.size;
    await waitFor(
      'shipped after the rotation',
      () => new Set(h.datadog.received.map((i) => i.id)).size >= total,
      60_000,
    );

    const rotated = await connectClient({ ...h.temporal, encryptionKey: NEW, encryptionKeys: [NEW, OLD] });
    try {
      const status = await waitFor(
        'caught up',
        async () => {
          const s = (await streamReport(rotated, h.tenant, 'audit')).status;
          return s?.state === 'caught_up' && s.counts.shipped >= total ? s : undefined;
        },
        30_000,
      );
      expect(status.lastError).toBeNull();
      const stored = Buffer.concat(await rawHistories(h.client, h.auditHandle().workflowId)).toString('latin1');
      expect(stored).toContain(keyIdOf(parseEncryptionKey(OLD)));
      expect(stored).toContain(keyIdOf(parseEncryptionKey(NEW)));
    } finally {
      await rotated.connection.close();
    }
  });
});
