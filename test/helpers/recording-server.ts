/**
 * Shared set-up of the HTTP client failure tests (test/unit/kandji-client-failures.test.ts and
 * test/unit/datadog-intake-client-failures.test.ts): a local node:http server that records every request and answers
 * with a handler set per test, and checks on the RemoteError a client throws (that it is one, that no secret leaks).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { toApplicationFailure } from '../../activities/failures';
import { RemoteError } from '../../src/remote-errors';

/** How the server answers a request (its body already read). */
export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A request as the server received it. */
export interface Recorded {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A server on a free local port answering with the handler last set (an empty 200 until then). */
export async function startServer(): Promise<{
  server: Server;
  base: string;
  setHandler: (h: Handler) => void;
  requests: Recorded[];
}> {
  let handler: Handler = (_req, res) => res.end();
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}`, setHandler: (h) => (handler = h), requests };
}

/** Closes the server and any connection still open. */
export async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The RemoteError a call rejects with (fails the test if it resolves or throws anything else). */
export async function catchRemote(p: Promise<unknown>): Promise<RemoteError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RemoteError);
    return err as RemoteError;
  }
  throw new Error('expected the call to fail');
}

/** Neither the error nor the ApplicationFailure made of it names the secret (message, details, stack). */
export function expectNoSecret(err: RemoteError, secret: string): void {
  expect(err.message).not.toContain(secret);
  expect(JSON.stringify(err.details)).not.toContain(secret);
  expect(String(err.stack)).not.toContain(secret);
  const f = toApplicationFailure(err);
  expect(f.message).not.toContain(secret);
  expect(JSON.stringify(f.details)).not.toContain(secret);
}
