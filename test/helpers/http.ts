import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

const SEND_TIMEOUT_MS = Number(process.env.GATEHOUSE_TEST_SEND_TIMEOUT_MS ?? 60000);

/** A response read fully. */
export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * Sends one request with node:http exactly as given (path not normalised, headers as listed,
 * duplicates allowed via arrays of pairs) and reads the whole response.
 */
export function send(
  base: string,
  path: string,
  opts: {
    method?: string;
    headers?: Record<string, string> | Array<[string, string]>;
    body?: string | Buffer;
  } = {},
): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        agent: false,
        setHost: !hasHost(opts.headers),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body) as T,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A request the server never answers fails here, naming itself, instead of hanging the file.
    req.setTimeout(SEND_TIMEOUT_MS, () =>
      req.destroy(new Error(`no response to ${opts.method ?? 'GET'} ${path} within ${SEND_TIMEOUT_MS} ms`)),
    );
    if (Array.isArray(opts.headers)) for (const [k, v] of opts.headers) req.appendHeader(k, v);
    else if (opts.headers) for (const [k, v] of Object.entries(opts.headers)) req.setHeader(k, v);
    req.end(opts.body);
  });
}

function hasHost(h: Record<string, string> | Array<[string, string]> | undefined): boolean {
  if (!h) return false;
  const names = Array.isArray(h) ? h.map(([k]) => k) : Object.keys(h);
  return names.some((n) => n.toLowerCase() === 'host');
}

/** Writes raw bytes to a TCP port and returns everything read until the server closes or `ms` passes. */
export function raw(port: number, data: string | Buffer, ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const t = setTimeout(() => (s.destroy(), resolve(out)), ms);
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('end', () => (clearTimeout(t), resolve(out)));
    s.on('close', () => (clearTimeout(t), resolve(out)));
    s.on('error', (e) => (clearTimeout(t), out ? resolve(out) : reject(e)));
    s.write(data);
  });
}
