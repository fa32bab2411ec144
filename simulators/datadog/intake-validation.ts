/**
 * Decodes and validates one `POST /api/v2/logs` body, the way the Datadog intake does
 * (https://docs.datadoghq.com/api/latest/logs/#send-logs: payload, log and array limits, and
 * Content-Encoding). Pure functions: no HTTP, no state.
 */
import * as zlib from 'node:zlib';
import { MAX_ITEMS_PER_REQUEST, MAX_SINGLE_LOG_BYTES, MAX_UNCOMPRESSED_PAYLOAD_BYTES } from './limits';

export type ReceivedLog = Record<string, unknown>;

/** A rejected request: the HTTP status and the `detail` to put in the HTTPLogErrors body. */
export interface IntakeRejection {
  ok: false;
  status: 400 | 413;
  detail: string;
  /** Known when decompression succeeded (or for identity bodies). */
  uncompressedBytes?: number;
}

export interface AcceptedItem {
  item: ReceivedLog;
  /** Size of the item serialized as JSON (UTF-8 bytes). */
  bytes: number;
  /** True when `bytes` > MAX_SINGLE_LOG_BYTES: Datadog accepts it but truncates it. */
  truncated: boolean;
}

export interface IntakeAcceptance {
  ok: true;
  items: AcceptedItem[];
  uncompressedBytes: number;
}

export type IntakeResult = IntakeAcceptance | IntakeRejection;

/** Normalised Content-Encoding: '' and 'identity' → 'identity', otherwise lower-cased and trimmed. */
export function normaliseEncoding(header: string | undefined): string {
  const value = (header ?? '').trim().toLowerCase();
  return value === '' ? 'identity' : value;
}

export type DecodeResult = { ok: true; body: Buffer } | IntakeRejection;

function isTooLarge(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE';
}

/** The `detail` of a 413 for a payload over `limit` uncompressed bytes. */
export const payloadTooLargeDetail = (limit: number): string => `payload exceeds the ${limit} bytes uncompressed limit`;

const tooLarge = (limit: number, uncompressedBytes?: number): IntakeRejection => ({
  ok: false,
  status: 413,
  detail: payloadTooLargeDetail(limit),
  ...(uncompressedBytes !== undefined ? { uncompressedBytes } : {}),
});

/**
 * Decompresses a body according to its (normalised) Content-Encoding. Inflation is bounded by
 * `maxOutputLength`, so a small "zip bomb" cannot grow past the payload limit in memory.
 */
export function decodeBody(raw: Buffer, encoding: string, limit = MAX_UNCOMPRESSED_PAYLOAD_BYTES): DecodeResult {
  const opts: zlib.ZlibOptions = { maxOutputLength: limit };
  let body: Buffer;
  switch (encoding) {
    case 'identity':
      body = raw;
      break;
    case 'gzip':
      try {
        body = zlib.gunzipSync(raw, opts);
      } catch (err) {
        if (isTooLarge(err)) return tooLarge(limit);
        return { ok: false, status: 400, detail: `could not decompress gzip body: ${(err as Error).message}` };
      }
      break;
    case 'deflate':
      // HTTP "deflate" means zlib-wrapped deflate; some clients send raw deflate, accept both.
      try {
        body = zlib.inflateSync(raw, opts);
      } catch (err) {
        if (isTooLarge(err)) return tooLarge(limit);
        try {
          body = zlib.inflateRawSync(raw, opts);
        } catch (rawErr) {
          if (isTooLarge(rawErr)) return tooLarge(limit);
          return { ok: false, status: 400, detail: `could not decompress deflate body: ${(err as Error).message}` };
        }
      }
      break;
    default:
      return {
        ok: false,
        status: 400,
        detail: `unsupported Content-Encoding "${encoding}" (use identity, gzip or deflate)`,
      };
  }
  if (body.length > limit) return tooLarge(limit, body.length);
  return { ok: true, body };
}

function isPlainObject(value: unknown): value is ReceivedLog {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses an uncompressed body: a JSON array of objects (or a single object, which Datadog
 * accepts as one log). Flags items whose serialized size is over MAX_SINGLE_LOG_BYTES.
 * More than `maxItems` entries (default MAX_ITEMS_PER_REQUEST) → 400.
 */
export function parseItems(body: Buffer, maxItems = MAX_ITEMS_PER_REQUEST): IntakeResult {
  const uncompressedBytes = body.length;
  const reject = (detail: string): IntakeRejection => ({ ok: false, status: 400, detail, uncompressedBytes });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return reject(`malformed JSON: ${(err as Error).message}`);
  }
  let list: unknown[];
  if (Array.isArray(parsed)) list = parsed;
  else if (isPlainObject(parsed)) list = [parsed];
  else return reject('body must be a JSON array of log objects (or a single log object)');

  if (list.length > maxItems) {
    return reject(`too many log entries: ${list.length} > ${maxItems}`);
  }
  const items: AcceptedItem[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isPlainObject(item)) return reject(`log entry ${i} is not a JSON object`);
    const bytes = Buffer.byteLength(JSON.stringify(item), 'utf8');
    items.push({ item, bytes, truncated: bytes > MAX_SINGLE_LOG_BYTES });
  }
  return { ok: true, items, uncompressedBytes };
}

export interface IntakeLimits {
  /** Uncompressed payload limit in bytes (default MAX_UNCOMPRESSED_PAYLOAD_BYTES). */
  maxPayloadBytes?: number;
  /** Most entries per request (default MAX_ITEMS_PER_REQUEST). */
  maxItems?: number;
}

/** decodeBody + parseItems. */
export function validateIntake(raw: Buffer, encoding: string, limits: IntakeLimits = {}): IntakeResult {
  const decoded = decodeBody(raw, encoding, limits.maxPayloadBytes ?? MAX_UNCOMPRESSED_PAYLOAD_BYTES);
  if (!decoded.ok) return decoded;
  return parseItems(decoded.body, limits.maxItems ?? MAX_ITEMS_PER_REQUEST);
}
