import {
  createServer as createHttpServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { GatehouseConfig } from '../config/schema.js';
import { catalogue, type ErrorCode } from '../errors/index.js';
import { ConfigError } from '../config/load.js';
import { FastLane } from './fast/lane.js';
import type { Admission } from './admission.js';
import { lingeringClose } from './linger.js';
import { loadListenerTls, type ListenerTlsConfig } from './listener-tls.js';
import { compileRedirectTarget, NO_HOST, redirectToHttps, type RedirectTarget } from './https-redirect.js';

/** What shutdown needs from a listener's server (Node's, or the fast lane in front of it). */
export interface ListenerControl {
  close(done: () => void): void;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

/** A bound listener. */
export interface BoundListener {
  readonly name: string;
  readonly server: ListenerControl;
  readonly secure: boolean;
  readonly url: string;
  readonly port: number;
  /** Every open client connection (including upgraded tunnels), destroyed at the shutdown deadline. */
  readonly sockets: Set<Duplex>;
  /** A plain-HTTP listener that only redirects to https. */
  readonly redirect: boolean;
  /**
   * TLS listeners: loads `tls` (certificate, key, client CA) and swaps it in for new connections
   * (`server.setSecureContext`); open connections keep theirs. Throws ConfigError like at start.
   */
  prepareTls?(tls: ListenerTlsConfig | undefined, baseDir: string, index: number): () => void;
}

/** Callbacks a listener forwards to. */
export interface ListenerHandlers {
  request(req: IncomingMessage, res: ServerResponse, secure: boolean, expectContinue: boolean): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void;
  /**
   * A request that failed to parse (smuggling, oversized headers, timeouts) or a connection
   * refused before any request (per-client cap): audits it, returns the request id.
   */
  clientError(code: ErrorCode, peer: string, detail: string): string;
  /** Per-client connection cap, checked when a connection is accepted. */
  readonly admission: Admission;
}

const PARSER_CODES: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'GH_HEADERS_TOO_LARGE',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'GH_REQUEST_SMUGGLING',
  HPE_INVALID_TRANSFER_ENCODING: 'GH_REQUEST_SMUGGLING',
  HPE_INVALID_CONTENT_LENGTH: 'GH_REQUEST_SMUGGLING',
  HPE_INVALID_CHUNK_SIZE: 'GH_REQUEST_SMUGGLING',
  HPE_CR_EXPECTED: 'GH_REQUEST_SMUGGLING',
  HPE_LF_EXPECTED: 'GH_REQUEST_SMUGGLING',
  HPE_INVALID_HEADER_TOKEN: 'GH_BAD_HEADER',
  HPE_INVALID_URL: 'GH_BAD_REQUEST_TARGET',
  HPE_INVALID_METHOD: 'GH_BAD_REQUEST_TARGET',
  ERR_HTTP_REQUEST_TIMEOUT: 'GH_REQUEST_TIMEOUT',
};

/**
 * Creates and binds the HTTP/HTTPS servers of `server.listeners` with the configured header,
 * request, idle and keep-alive timeouts and maximum header size. TLS listeners require at least
 * TLS 1.2 and may request or require client certificates. Every accepted TCP connection is
 * counted against its peer's `server.max_connections_per_client` first: over the cap, a plain
 * listener answers 429 `GH_TOO_MANY_CONNECTIONS` and closes, a TLS listener closes before the
 * handshake (answering would cost the handshake the cap is there to spare).
 */
export async function bindListeners(
  config: GatehouseConfig,
  baseDir: string,
  h: ListenerHandlers,
): Promise<BoundListener[]> {
  const out: BoundListener[] = [];
  const t = config.server.timeouts;
  for (const [i, l] of config.server.listeners.entries()) {
    const secure = l.tls !== undefined;
    const tls = l.tls ? loadListenerTls(l.tls, baseDir, i) : undefined;
    const common = {
      maxHeaderSize: config.server.max_header_size,
      headersTimeout: t.headers,
      requestTimeout: t.request,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(t.headers / 2))),
      keepAliveTimeout: t.keep_alive,
      requireHostHeader: false,
      joinDuplicateHeaders: false,
    };
    const server: Server = tls
      ? createHttpsServer({
          ...common,
          ...tls.context,
          requestCert: tls.requestCert,
          rejectUnauthorized: tls.rejectUnauthorized,
        })
      : createHttpServer(common);
    server.timeout = t.idle;
    const sockets = new Set<Duplex>();
    const track = (socket: Duplex) => {
      if (sockets.has(socket)) return;
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    };
    server.on(secure ? 'secureConnection' : 'connection', track);
    if (l.redirect_to_https) {
      // Never proxies: every request is redirected — upgrades too (without an 'upgrade' listener
      // Node hands them to 'request'), and Expect: 100-continue gets the redirect, not a 100.
      const target = redirectTargetFor(config, i, l.https_port ?? 443);
      const redirect = (req: IncomingMessage, res: ServerResponse) => redirectToHttps(target, req, res);
      server.on('request', redirect);
      server.on('checkContinue', redirect);
    } else {
      server.on('request', (req, res) => h.request(req, res, secure, false));
      server.on('checkContinue', (req, res) => h.request(req, res, secure, true));
      server.on('upgrade', (req, socket, head) => h.upgrade(req, socket, head, secure));
    }
    // CONNECT (a forward-proxy tunnel): Gatehouse is never one. Without a listener Node would
    // drop the connection unanswered and unaudited.
    server.on('connect', (req: IncomingMessage, socket: Duplex) =>
      rejectRaw(h, socket, 'GH_METHOD_NOT_ALLOWED', `CONNECT ${req.url ?? ''}`),
    );
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const code = PARSER_CODES[err.code ?? ''] ?? 'GH_BAD_REQUEST_TARGET';
      if (err.code === 'ECONNRESET') return void socket.destroy();
      if (!socket.writable) {
        // Already closing (a lingering close or Node's own): that close finishes the job.
        if (!socket.writableEnded) socket.destroy();
        return;
      }
      // A response already begun cannot be followed by another one on the same connection.
      const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (inFlight?.headersSent === true) return void socket.destroy();
      rejectRaw(h, socket, code, err.code ?? err.message);
    });
    const admit = (socket: Socket): boolean => {
      const over = h.admission.connect(socket);
      if (over === undefined) return true;
      const detail = `${over} holds ${h.admission.limits.connections} connections`;
      if (secure) {
        h.clientError('GH_TOO_MANY_CONNECTIONS', over, detail);
        socket.destroy();
      } else rejectRaw(h, socket, 'GH_TOO_MANY_CONNECTIONS', detail);
      return false;
    };
    const lane =
      !l.redirect_to_https && config.server.fast_lane
        ? new FastLane({
            maxHeaderSize: config.server.max_header_size,
            headersTimeout: t.headers,
            keepAliveTimeout: t.keep_alive,
            idleTimeout: t.idle,
            http: server,
            tls: tls
              ? { ...tls.context, requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized }
              : undefined,
            request: (req, res) => h.request(req, res, secure, false),
            headersTimedOut: (socket) => rejectRaw(h, socket, 'GH_REQUEST_TIMEOUT', 'headers timeout'),
            admit,
          })
        : undefined;
    lane?.server.on(secure ? 'secureConnection' : 'connection', track);
    // Without the lane, Node's server accepts (TCP, before any TLS handshake byte is read).
    if (!lane) server.on('connection', admit);
    const listening = lane ? lane.server : server;
    await new Promise<void>((resolvePromise, reject) => {
      listening.once('error', reject);
      listening.listen(l.port, l.address, () => {
        listening.off('error', reject);
        resolvePromise();
      });
    });
    const addr = listening.address();
    const port = typeof addr === 'object' && addr ? addr.port : l.port;
    const host = l.address.includes(':')
      ? `[${l.address}]`
      : l.address === '0.0.0.0'
        ? '127.0.0.1'
        : l.address;
    out.push({
      name: l.name ?? `listener-${i}`,
      server: lane ?? server,
      secure,
      port,
      sockets,
      redirect: l.redirect_to_https === true,
      url: `${secure ? 'https' : 'http'}://${host}:${port}`,
      ...(secure
        ? {
            prepareTls(next: ListenerTlsConfig | undefined, dir: string, index: number) {
              const material = loadListenerTls(next ?? (l.tls as ListenerTlsConfig), dir, index);
              return () => {
                (server as HttpsServer).setSecureContext(material.context);
                (lane?.server as TlsServer | undefined)?.setSecureContext(material.context);
              };
            },
          }
        : {}),
    });
  }
  return out;
}

/** Compiles where a redirect listener sends clients; ConfigError when no host is allowed. */
function redirectTargetFor(config: GatehouseConfig, i: number, httpsPort: number): RedirectTarget {
  const target = compileRedirectTarget(config, httpsPort);
  if (target.hosts.size === 0 && target.wildcards.length === 0) {
    throw new ConfigError([
      {
        path: `server.listeners[${i}].redirect_to_https`,
        message: NO_HOST,
        severity: 'error',
      },
    ]);
  }
  return target;
}

/**
 * Reloads the certificate, key and client CA of every TLS listener from disk (the paths of the
 * `config` entry at the listener's position in `listeners`, which follows `server.listeners`, or
 * the listener's own when that entry is gone): all are loaded first, so one bad file
 * (ConfigError naming its key) changes nothing; then each server's secure context is swapped.
 * New TLS connections get the new certificate; open ones, keep-alive included, keep theirs.
 */
export function reloadListenerCertificates(
  listeners: readonly BoundListener[],
  config: GatehouseConfig,
  baseDir: string,
): void {
  const apply: (() => void)[] = [];
  for (const [i, b] of listeners.entries()) {
    if (b.prepareTls) apply.push(b.prepareTls(config.server.listeners[i]?.tls, baseDir, i));
  }
  for (const a of apply) a();
}

/**
 * Answers a request Node's parser (or the fast lane's headers timeout) refused, or a connection
 * over its client's cap, on the raw socket, then closes with a lingering close so the client
 * reads the answer even while it is still sending.
 */
function rejectRaw(h: ListenerHandlers, socket: Duplex, code: ErrorCode, detail: string): void {
  const peer = (socket as Socket).remoteAddress ?? '';
  const id = h.clientError(code, peer, detail);
  const entry = catalogue[code];
  const body = JSON.stringify({ error: code, message: entry.message, request_id: id });
  const retry = entry.status === 429 || entry.status === 503 ? 'Retry-After: 1\r\n' : '';
  lingeringClose(
    socket,
    `HTTP/1.1 ${entry.status} ${STATUS_CODES[entry.status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Request-Id: ${id}\r\n${retry}Connection: close\r\n\r\n${body}`,
  );
}
