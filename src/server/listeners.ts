import {
  createServer as createHttpServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { GatehouseConfig, ListenerConfig } from '../config/schema.js';
import { catalogue, type ErrorCode } from '../errors/index.js';
import { ConfigError } from '../config/load.js';
import { FastLane } from './fast/lane.js';
import type { Admission } from './admission.js';
import { lingeringClose } from './linger.js';

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
    const common = {
      maxHeaderSize: config.server.max_header_size,
      headersTimeout: t.headers,
      requestTimeout: t.request,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(t.headers / 2))),
      keepAliveTimeout: t.keep_alive,
      requireHostHeader: false,
      joinDuplicateHeaders: false,
    };
    const server: Server = secure
      ? createHttpsServer({ ...common, ...tlsOptions(l, baseDir, i) })
      : createHttpServer(common);
    server.timeout = t.idle;
    const sockets = new Set<Duplex>();
    const track = (socket: Duplex) => {
      if (sockets.has(socket)) return;
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    };
    server.on(secure ? 'secureConnection' : 'connection', track);
    server.on('request', (req, res) => h.request(req, res, secure, false));
    server.on('checkContinue', (req, res) => h.request(req, res, secure, true));
    server.on('upgrade', (req, socket, head) => h.upgrade(req, socket, head, secure));
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
      !secure && config.server.fast_lane
        ? new FastLane({
            maxHeaderSize: config.server.max_header_size,
            headersTimeout: t.headers,
            keepAliveTimeout: t.keep_alive,
            idleTimeout: t.idle,
            http: server,
            request: (req, res) => h.request(req, res, false, false),
            headersTimedOut: (socket) => rejectRaw(h, socket, 'GH_REQUEST_TIMEOUT', 'headers timeout'),
            admit,
          })
        : undefined;
    lane?.server.on('connection', track);
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
      url: `${secure ? 'https' : 'http'}://${host}:${port}`,
    });
  }
  return out;
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

function tlsOptions(l: ListenerConfig, baseDir: string, i: number) {
  const tls = l.tls as NonNullable<ListenerConfig['tls']>;
  const read = (p: string, key: string) => {
    try {
      return readFileSync(resolve(baseDir, p));
    } catch (e) {
      throw new ConfigError([
        {
          path: `server.listeners[${i}].tls.${key}`,
          message: `cannot read ${p}: ${(e as NodeJS.ErrnoException).code}`,
          severity: 'error',
        },
      ]);
    }
  };
  const wantCert = tls.client_certificate !== 'none';
  if (wantCert && !tls.client_ca) {
    throw new ConfigError([
      {
        path: `server.listeners[${i}].tls.client_ca`,
        message: 'required when client_certificate is request or require',
        severity: 'error',
      },
    ]);
  }
  return {
    cert: read(tls.cert, 'cert'),
    key: read(tls.key, 'key'),
    minVersion: tls.min_version,
    ca: tls.client_ca ? read(tls.client_ca, 'client_ca') : undefined,
    requestCert: wantCert,
    rejectUnauthorized: tls.client_certificate === 'require',
  };
}
