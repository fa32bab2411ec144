/**
 * The data converter every worker and client of this service uses: gzip for payloads over 1 KB, then, when
 * encryption keys are set (KANDJI_DATADOG_ENCRYPTION_KEYS or KANDJI_DATADOG_ENCRYPTION_KEY), AES-256-GCM with the
 * first key, decrypting with whichever key a payload names. Codecs encode in array order and decode in reverse.
 */
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { CompressionCodec } from './compression-codec';
import { EncryptionCodec, parseEncryptionKey } from './encryption-codec';

/** `encryptionKeys`: one key, or a list whose first encrypts and every one decrypts. None: no encryption. */
export function payloadCodecs(encryptionKeys?: string | readonly string[]): PayloadCodec[] {
  const codecs: PayloadCodec[] = [new CompressionCodec()];
  const keys = typeof encryptionKeys === 'string' ? [encryptionKeys] : (encryptionKeys ?? []);
  if (keys.length) codecs.push(new EncryptionCodec(keys.map(parseEncryptionKey)));
  return codecs;
}

export function buildDataConverter(encryptionKeys?: string | readonly string[]): DataConverter {
  return { payloadCodecs: payloadCodecs(encryptionKeys) };
}
