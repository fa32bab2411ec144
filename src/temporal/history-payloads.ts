/** The payloads a workflow history holds, as stored (after codecs): to check that none is over a bound. */
import { temporal } from '@temporalio/proto';

type Payload = temporal.api.common.v1.IPayload;

function collect(node: unknown, out: Payload[], depth = 0): void {
  if (!node || typeof node !== 'object' || depth > 12) return;
  if (node instanceof Uint8Array) return;
  const o = node as Record<string, unknown>;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
    out.push(o as Payload);
    return;
  }
  for (const v of Object.values(o)) {
    if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
    else collect(v, out, depth + 1);
  }
}

/** Every payload of every event of the given encoded histories. */
export function payloadsOf(histories: readonly Uint8Array[]): Payload[] {
  const out: Payload[] = [];
  for (const bytes of histories) {
    const history = temporal.api.history.v1.History.decode(bytes);
    for (const event of history.events) collect(event, out);
  }
  return out;
}

/** Size of the largest payload (encoded, with its metadata) in the histories. */
export function largestPayloadBytes(histories: readonly Uint8Array[]): number {
  return Math.max(0, ...payloadsOf(histories).map((p) => temporal.api.common.v1.Payload.encode(p).finish().length));
}
