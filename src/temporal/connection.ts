/**
 * Connection settings read the way every Temporal tool reads them (`@temporalio/envconfig`): the environment
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH|_DATA,
 * TEMPORAL_TLS_CLIENT_KEY_PATH|_DATA, TEMPORAL_TLS_SERVER_CA_CERT_PATH|_DATA, TEMPORAL_TLS_SERVER_NAME,
 * TEMPORAL_GRPC_META_*) over a profile (TEMPORAL_PROFILE, default `default`) of the TOML config file
 * (TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml). An API key turns TLS on.
 */
import type { TLSConfig } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export interface TemporalConnectionProfile {
  address?: string;
  namespace?: string;
  /** `true` for TLS with the system's roots; an object for a private CA, mTLS or a server name override. */
  tls?: TLSConfig | boolean;
  /** Secret: never log it. */
  apiKey?: string;
  /** gRPC headers (TEMPORAL_GRPC_META_<NAME>). */
  metadata?: Record<string, string>;
}

/** Reads the connection profile; a missing profile or an unreadable file or certificate throws with the cause. */
export function loadConnectionProfile(env: Record<string, string | undefined>): TemporalConnectionProfile {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const { connectionOptions: c, namespace } = loadClientConnectConfig({ overrideEnvVars: vars });
  const metadata = c.metadata && Object.keys(c.metadata).length ? (c.metadata as Record<string, string>) : undefined;
  return withoutUndefined({
    address: c.address,
    namespace,
    tls: c.tls ?? undefined,
    apiKey: typeof c.apiKey === 'string' ? c.apiKey : undefined,
    metadata,
  });
}

/** The options both `Connection.connect` (client) and `NativeConnection.connect` (worker) take. */
export function connectionOptions(
  t: { address: string } & Pick<TemporalConnectionProfile, 'tls' | 'apiKey' | 'metadata'>,
) {
  return withoutUndefined({ address: t.address, tls: t.tls, apiKey: t.apiKey, metadata: t.metadata });
}

/** How the connection is secured, for start-up logs (never the key or certificates themselves). */
export function describeConnection(t: Pick<TemporalConnectionProfile, 'tls' | 'apiKey'>): {
  tls: string;
  apiKey: boolean;
} {
  const tls = !t.tls ? 'off' : typeof t.tls === 'object' && t.tls.clientCertPair ? 'mtls' : 'on';
  return { tls, apiKey: t.apiKey !== undefined };
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
