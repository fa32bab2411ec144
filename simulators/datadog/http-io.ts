/** Small node:http helpers: bounded body reading and response writing. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ReadBody {
  /** The body, or undefined when it was larger than the cap (it was drained, not kept). */
  raw: Buffer | undefined;
  /** Bytes received on the wire (before any decompression). */
  bytes: number;
}

/**
 * Reads the request body, keeping at most `cap` bytes in memory; beyond that the rest is
 * drained and discarded so the connection can still get an answer. Resolves undefined if the
 * request is aborted before it ends.
 */
export function readBody(req: IncomingMessage, cap: number): Promise<ReadBody | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let overflow = false;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (overflow) return;
      if (bytes > cap) {
        overflow = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      done = true;
      resolve({ raw: overflow ? undefined : Buffer.concat(chunks, bytes), bytes });
    });
    req.on('error', () => {
      if (!done) resolve(undefined);
    });
    req.on('close', () => {
      if (!done) resolve(undefined);
    });
  });
}

export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': String(buf.length) });
  res.end(buf);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendBody(res, status, 'application/json', JSON.stringify(body), headers);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  sendBody(res, status, 'text/html', html);
}
