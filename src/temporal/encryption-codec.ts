/**
 * Optional AES-256-GCM payload codec: with KANDJI_DATADOG_ENCRYPTION_KEY(S) set, every payload (Kandji records
 * included) is stored in Temporal encrypted. Workers, the CLI and the codec server need the same keys.
 * Format: metadata `encoding: binary/encrypted`, `encryption-key-id: <first 16 hex of SHA-256(key)>`;
 * data = 12-byte IV ‖ ciphertext ‖ 16-byte tag, over the protobuf encoding of the original payload.
 *
 * Rotation: the codec takes several keys; it encrypts with the first and decrypts with the key the payload's key id
 * names, so payloads written before a rotation (running workflows' histories) still decode. A payload without a key
 * id is tried with every key (the GCM tag tells the right one).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');

/** Reads a 32-byte key given as 64 hex characters or as base64. */
export function parseEncryptionKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (
    key.length !== 32 ||
    (!/^[0-9a-fA-F]{64}$/.test(t) && key.toString('base64').replace(/=+$/, '') !== t.replace(/=+$/, ''))
  ) {
    throw new Error('expected a 32-byte key as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)');
  }
  return key;
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: { id: string; key: Buffer }[];

  /** `keys`: the first encrypts, every one decrypts. One key (a Buffer) is a list of one. */
  constructor(keys: Buffer | readonly Buffer[]) {
    const list = Buffer.isBuffer(keys) ? [keys] : [...keys];
    if (list.length === 0) throw new Error('EncryptionCodec needs at least one key');
    this.keys = list.map((key) => ({ id: keyIdOf(key), key }));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0]!;
    return payloads.map((p) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: enc(ENCRYPTED_ENCODING), [KEY_ID]: enc(id) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (dec(p.metadata?.encoding) !== ENCRYPTED_ENCODING) return p;
      const data = Buffer.from(p.data ?? new Uint8Array());
      const keyId = dec(p.metadata?.[KEY_ID]);
      if (!keyId) {
        for (const { key } of this.keys) {
          try {
            return decrypt(key, data);
          } catch {
            // not this key
          }
        }
        throw new Error(`payload has no key id and none of the ${this.keys.length} configured key(s) decrypts it`);
      }
      const match = this.keys.find((k) => k.id === keyId);
      if (!match) {
        throw new Error(
          `payload was encrypted with key ${keyId}, which is not among the configured keys (${this.keys.map((k) => k.id).join(', ')}): ` +
            'add it to KANDJI_DATADOG_ENCRYPTION_KEYS',
        );
      }
      return decrypt(match.key, data);
    });
  }
}

function decrypt(key: Buffer, data: Buffer): Payload {
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
  decipher.setAuthTag(data.subarray(data.length - 16));
  const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
  return temporal.api.common.v1.Payload.decode(plain) as Payload;
}
