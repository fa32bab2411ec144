/**
 * A real TLS endpoint in front of the Temporal dev server (which has no TLS flags): a TLS-terminating TCP proxy
 * piping each connection to the server's gRPC port, with a CA, a server certificate (127.0.0.1, localhost) and a
 * client certificate made for the test by the openssl CLI. It asks for client certificates and records, per
 * connection, whether one signed by the CA was presented (mTLS) or none (TLS only, e.g. with an API key).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export function makeTestPki(): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kandji-datadog-pki-'));
  const p = (f: string) => path.join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=kandji-datadog test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  const issue = (name: string, subject: string, ext: string) => {
    fs.writeFileSync(p(`${name}.ext`), ext);
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
  };
  issue('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', '/CN=kandji-datadog worker', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
  };
}

export interface TlsProxy {
  address: string;
  /** One entry per TLS connection: whether it presented a client certificate the CA signed. */
  sessions: { clientCertificate: boolean }[];
  close(): Promise<void>;
}

export async function startTlsProxy(pki: TestPki, target: string): Promise<TlsProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sessions: TlsProxy['sessions'] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    {
      key: fs.readFileSync(pki.serverKey),
      cert: fs.readFileSync(pki.serverCert),
      ca: fs.readFileSync(pki.caCert),
      requestCert: true,
      rejectUnauthorized: false, // a connection without a client certificate is allowed (API key clients)
      ALPNProtocols: ['h2'],
    },
    (clientSide) => {
      const presented = clientSide.authorized;
      if (!presented && clientSide.getPeerCertificate()?.subject) return clientSide.destroy(); // a certificate the CA did not sign
      sessions.push({ clientCertificate: presented });
      const upstream = net.connect(port, host);
      for (const s of [clientSide, upstream]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      clientSide.pipe(upstream).pipe(clientSide);
      clientSide.once('close', () => upstream.destroy());
      upstream.once('close', () => clientSide.destroy());
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
