/**
 * Temporal connection settings as every Temporal tool reads them (@temporalio/envconfig): environment over the
 * TOML profile, an API key that turns TLS on and reaches the options the SDK connects with, files that must exist.
 * The TLS and mTLS connections themselves are exercised in test/e2e/production-worker.e2e.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import { loadTemporalConfig } from '../../src/config/env';
import { connectionOptions, describeConnection } from '../../src/temporal/connection';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-envconfig-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

describe('Temporal connection settings', () => {
  it('defaults to a plaintext local server', () => {
    const t = loadTemporalConfig({});
    expect(connectionOptions(t)).toEqual({ address: '127.0.0.1:7233' });
    expect(t.namespace).toBe('default');
    expect(describeConnection(t)).toEqual({ tls: 'off', apiKey: false });
  });

  it('passes TEMPORAL_API_KEY to the connection options, with TLS on (Temporal Cloud)', () => {
    const t = loadTemporalConfig({
      TEMPORAL_ADDRESS: 'prod.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'prod.a1b2c',
      TEMPORAL_API_KEY: 'the-api-key',
    });
    expect(connectionOptions(t)).toEqual({ address: 'prod.a1b2c.tmprl.cloud:7233', apiKey: 'the-api-key', tls: true });
    expect(t.namespace).toBe('prod.a1b2c');
    expect(describeConnection(t)).toEqual({ tls: 'on', apiKey: true });
  });

  it('reads mTLS certificates, a private CA and a server name from TEMPORAL_TLS_*', () => {
    const t = loadTemporalConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_DATA: 'CERT',
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', 'KEY'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal',
      TEMPORAL_GRPC_META_X_TENANT: 'secops',
    });
    const o = connectionOptions(t);
    expect(o.tls).toMatchObject({ serverNameOverride: 'temporal' });
    const tls = o.tls as { clientCertPair: { crt: Uint8Array; key: Uint8Array }; serverRootCACertificate: Uint8Array };
    const text = (b: Uint8Array) => Buffer.from(b).toString();
    expect([text(tls.clientCertPair.crt), text(tls.clientCertPair.key), text(tls.serverRootCACertificate)]).toEqual([
      'CERT',
      'KEY',
      'CA',
    ]);
    expect(o.metadata).toEqual({ 'x-tenant': 'secops' });
    expect(describeConnection(t).tls).toBe('mtls');
  });

  it('reads a profile of TEMPORAL_CONFIG_FILE (TEMPORAL_PROFILE), and the environment wins over it', () => {
    const toml = file(
      'temporal.toml',
      [
        '[profile.cloud]',
        'address = "prod.a1b2c.tmprl.cloud:7233"',
        'namespace = "prod.a1b2c"',
        'api_key = "from-file"',
        '',
        '[profile.cloud.tls]',
        'server_name = "prod.a1b2c.tmprl.cloud"',
        '',
      ].join('\n'),
    );
    const t = loadTemporalConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
    expect(connectionOptions(t)).toMatchObject({
      address: 'prod.a1b2c.tmprl.cloud:7233',
      apiKey: 'from-file',
      tls: { serverNameOverride: 'prod.a1b2c.tmprl.cloud' },
    });
    expect(t.namespace).toBe('prod.a1b2c');
    const overridden = loadTemporalConfig({
      TEMPORAL_CONFIG_FILE: toml,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_NAMESPACE: 'staging.a1b2c',
      TEMPORAL_API_KEY: 'from-env',
    });
    expect([overridden.namespace, overridden.apiKey]).toEqual(['staging.a1b2c', 'from-env']);
  });

  it('stops with a configuration error for a missing profile or certificate file', () => {
    const toml = file('other.toml', '[profile.other]\naddress = "x:7233"\n');
    expect(() => loadTemporalConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' })).toThrow(ConfigError);
    expect(() => loadTemporalConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' })).toThrow(
      /TEMPORAL_PROFILE \(nope\).*Profile 'nope' not found/,
    );
    expect(() =>
      loadTemporalConfig({ TEMPORAL_CONFIG_FILE: file('empty.toml', ''), TEMPORAL_PROFILE: 'nope' }),
    ).toThrow(ConfigError);
    expect(() => loadTemporalConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing.crt') })).toThrow(
      /missing\.crt/,
    );
  });
});
