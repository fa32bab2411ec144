/**
 * Faults a simulator can inject on demand, shared by the Kandji and Datadog simulators.
 * Each request draws once from the simulator's seeded random source: with probability `rate`
 * one of the enabled `kinds` is applied instead of the normal answer.
 */
export type FaultKind =
  | 'server_error_html' // 5xx (500/502/503) with an HTML body
  | 'rate_limited' // 429 with a Retry-After header
  | 'slow' // answer correctly, but only after `slowMs`
  | 'malformed_json' // 200 with a truncated JSON body (Content-Type: application/json)
  | 'drop_connection'; // destroy the socket without answering

export const ALL_FAULT_KINDS: readonly FaultKind[] = [
  'server_error_html',
  'rate_limited',
  'slow',
  'malformed_json',
  'drop_connection',
];

export interface FaultConfig {
  /** Probability in [0, 1] that a request gets a fault. 0 disables faults. */
  rate: number;
  /** Kinds to choose from, uniformly. Defaults to all kinds. */
  kinds?: readonly FaultKind[];
  /** Delay for `slow` answers, in ms. Default 2000. */
  slowMs?: number;
  /** Retry-After seconds sent with `rate_limited`. Default 1. */
  retryAfterSeconds?: number;
}

/** Small deterministic PRNG (mulberry32) so a seed gives the same data and the same faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decides, per request, whether and which fault applies. */
export class FaultInjector {
  private config: FaultConfig = { rate: 0 };
  constructor(private readonly random: () => number) {}

  set(config: FaultConfig): void {
    if (!(config.rate >= 0 && config.rate <= 1))
      throw new RangeError(`fault rate must be in [0,1], got ${config.rate}`);
    this.config = { ...config };
  }

  get current(): FaultConfig {
    return { ...this.config };
  }

  /** Returns the fault to apply to this request, or undefined for a normal answer. */
  draw(): { kind: FaultKind; slowMs: number; retryAfterSeconds: number } | undefined {
    const { rate, kinds = ALL_FAULT_KINDS, slowMs = 2000, retryAfterSeconds = 1 } = this.config;
    if (rate <= 0 || kinds.length === 0) return undefined;
    if (this.random() >= rate) return undefined;
    const kind = kinds[Math.floor(this.random() * kinds.length)] ?? kinds[0]!;
    return { kind, slowMs, retryAfterSeconds };
  }
}
