import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the recording upstream saw for one request. */
export interface Received {
  readonly method: string;
  /** Request target exactly as received on the wire. */
  readonly url: string;
  /** Raw header pairs as received (name case preserved). */
  readonly rawHeaders: readonly string[];
  /** Lower-cased header map. */
  readonly headers: IncomingMessage['headers'];
  readonly bodyBytes: number;
  readonly body: Buffer | undefined;
}

export interface RecordingUpstream {
  readonly port: number;
  readonly url: string;
  readonly received: Received[];
  server: Server;
  close(): Promise<void>;
}

/**
 * A real HTTP upstream on 127.0.0.1:0 that records exactly what it received. The default
 * handler answers 200 with JSON `{method, url, headers}`; pass `handler` to answer otherwise.
 * Bodies are kept when smaller than `keepBody` bytes (default 1 MiB), otherwise only counted.
 */
export async function startUpstream(
  handler?: (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined) => void,
  opts: { keepBody?: number } = {},
): Promise<RecordingUpstream> {
  const received: Received[] = [];
  const keep = opts.keepBody ?? 1024 * 1024;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n <= keep) chunks.push(c);
    });
    req.on('end', () => {
      const body = n <= keep && n > 0 ? Buffer.concat(chunks) : undefined;
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        rawHeaders: req.rawHeaders,
        headers: req.headers,
        bodyBytes: n,
        body,
      });
      if (handler) return handler(req, res, body);
      const out = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodyBytes: n });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
