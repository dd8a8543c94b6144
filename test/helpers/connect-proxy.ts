import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** A forward proxy on loopback that records what it was asked to do. */
export interface ConnectProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `host:port` of every CONNECT request, in order (refused ones included). */
  readonly connects: string[];
  /** Absolute-form targets of every plain request, in order. */
  readonly forwards: string[];
  /** `Proxy-Authorization` of every request (CONNECT or absolute-form), in order. */
  readonly authorizations: (string | undefined)[];
  close(): Promise<void>;
}

/**
 * Starts a tiny HTTP/1.1 forward proxy on 127.0.0.1:0: `CONNECT host:port` opens a TCP tunnel
 * (answering `200 Connection Established`), an absolute-form request (`GET http://host/path`) is
 * forwarded. `hosts` maps names only the proxy can resolve (e.g. `idp.corp.test`) to addresses.
 * With `credentials` (`user:password`), requests without the matching Basic
 * `Proxy-Authorization` are answered 407.
 */
export async function startConnectProxy(
  opts: { credentials?: string; hosts?: Record<string, string> } = {},
): Promise<ConnectProxy> {
  const resolveHost = (h: string): string => opts.hosts?.[h] ?? h;
  const connects: string[] = [];
  const forwards: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const sockets = new Set<Duplex>();
  const expected =
    opts.credentials === undefined ? undefined : `Basic ${Buffer.from(opts.credentials).toString('base64')}`;
  const authorised = (req: IncomingMessage): boolean => {
    authorizations.push(req.headers['proxy-authorization']);
    return expected === undefined || req.headers['proxy-authorization'] === expected;
  };
  const server = createServer((req, res) => {
    forwards.push(req.url ?? '');
    if (!authorised(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', connection: 'close' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form target expected');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = httpRequest(
      {
        host: resolveHost(target.hostname),
        port: target.port,
        method: req.method,
        path: target.pathname + target.search,
        headers,
      },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    connects.push(target);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (!authorised(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const m = /^(.+):(\d+)$/.exec(target);
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = netConnect(Number(m[2]), resolveHost((m[1] as string).replace(/^\[|\]$/g, '')), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connects,
    forwards,
    authorizations,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
