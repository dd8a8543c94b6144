import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

/** A response read fully. */
export interface HttpsReply {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/**
 * GET over TLS to a listener on 127.0.0.1 with SNI `localhost` and the matching `Host` (a Host
 * other than the SNI name is answered 421), trusting `ca`, optionally presenting a client
 * certificate; `tls` adds or overrides request options (ciphers, maxVersion…).
 */
export function httpsGet(
  base: string,
  path: string,
  opts: {
    ca: string;
    cert?: string | undefined;
    key?: string | undefined;
    headers?: Record<string, string>;
    tls?: RequestOptions;
  },
): Promise<HttpsReply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: u.port,
        path,
        servername: 'localhost',
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        agent: false,
        headers: { host: `localhost:${u.port}`, ...opts.headers },
        ...opts.tls,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
