/**
 * The data converter every worker and client of this service uses: gzip for payloads over 1 KB, then, when
 * KANDJI_DATADOG_ENCRYPTION_KEY is set, AES-256-GCM. Codecs encode in array order and decode in reverse.
 */
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { CompressionCodec } from './compression-codec';
import { EncryptionCodec, parseEncryptionKey } from './encryption-codec';

export function payloadCodecs(encryptionKey?: string): PayloadCodec[] {
  const codecs: PayloadCodec[] = [new CompressionCodec()];
  if (encryptionKey) codecs.push(new EncryptionCodec(parseEncryptionKey(encryptionKey)));
  return codecs;
}

export function buildDataConverter(encryptionKey?: string): DataConverter {
  return { payloadCodecs: payloadCodecs(encryptionKey) };
}
