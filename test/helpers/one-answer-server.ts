/** Local HTTP origins for client tests: one that always gives the same answer, one where nothing listens. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server answering every request with `status`, `headers` and `body`. */
export async function answering(
  status: number,
  headers: Record<string, string>,
  body: string,
): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => res.writeHead(status, headers).end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** An origin nothing listens on: connections are refused at once. */
export async function closedOrigin(): Promise<string> {
  const { server, origin } = await answering(200, {}, '');
  await stop(server);
  return origin;
}
