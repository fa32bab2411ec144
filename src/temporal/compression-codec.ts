/**
 * Payload codec that gzips payloads larger than a threshold (cursors with their digests, snapshot state chunks,
 * statuses); compressing them keeps history well below Temporal's per-payload (2 MB) and per-history (50 MB) limits.
 * Used by the worker and every client (CLI, tests) alike.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const GZIP_ENCODING = 'binary/gzip';
const ENCODING_KEY = 'encoding';

const encodeText = (s: string) => new TextEncoder().encode(s);
const decodeText = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');

export class CompressionCodec implements PayloadCodec {
  constructor(private readonly minBytes = 1024) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if ((p.data?.length ?? 0) < this.minBytes) return p;
      const raw = temporal.api.common.v1.Payload.encode(p).finish();
      return { metadata: { [ENCODING_KEY]: encodeText(GZIP_ENCODING) }, data: gzipSync(raw) };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (decodeText(p.metadata?.[ENCODING_KEY]) !== GZIP_ENCODING) return p;
      const raw = gunzipSync(p.data ?? new Uint8Array());
      return temporal.api.common.v1.Payload.decode(raw) as Payload;
    });
  }
}
