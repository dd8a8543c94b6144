/**
 * WebSocket tunnels: one dedicated upstream connection per upgraded request (RFC 6455 §4,
 * RFC 9110 §7.8). The handshake is ours, not a library's, so that an upstream that declines the
 * upgrade (any status other than 101) is relayed to the client as the answer it is, instead of
 * surfacing as a connection error.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { FIELD_CTL, TOKEN, withoutOws } from '../http/fields.js';
import { ResponseParser, type ParserEvents } from './h1/parser.js';
import { H1Error, markUnsent, requestHead } from './h1/request-head.js';
import type { UpstreamTarget } from './target.js';

/** Largest 101 head accepted, like the response parser's. */
const MAX_HEAD = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const STATUS = /^HTTP\/1\.1 (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?$/;

/** What the caller does with the upstream's answer. */
export interface TunnelHandler {
  /**
   * The upstream switched protocols: `raw` are its 101 header fields (`[name, value, …]`),
   * `socket` the upstream connection, `rest` bytes it sent after the head (already frames).
   */
  onSwitched(raw: string[], socket: Socket, rest: Buffer): void;
  /** The upstream declined with a final response: relay it. `socket` is closed after `onEnd`. */
  declined: ParserEvents;
  /** Connecting, the handshake or the declined response failed (mapped like any upstream error). */
  onError(err: Error): void;
}

/** A handshake in progress. */
export interface Tunnel {
  /** The client went away: close the upstream connection, report nothing more. */
  abort(): void;
  /** Resumes reading a declined response after backpressure. */
  resume(): void;
  /** Pauses reading a declined response (the client is slow). */
  pause(): void;
}

/**
 * Opens a connection to `target`, sends `GET path` with `headers` (a flat `[name, value, …]`
 * list, Host included) plus `Connection: upgrade` / `Upgrade: websocket`, then `early` (bytes
 * the client sent after its head), and reports the upstream's answer to `h`.
 */
export function openTunnel(
  target: UpstreamTarget,
  path: string,
  headers: readonly string[],
  early: Buffer,
  h: TunnelHandler,
): Tunnel {
  let head: string;
  try {
    const upgrade = [...headers, 'connection', 'upgrade', 'upgrade', 'websocket'];
    head = requestHead({ method: 'GET', path, headers: upgrade, body: null }, false);
  } catch (e) {
    queueMicrotask(() => h.onError(e as Error));
    return { abort() {}, resume() {}, pause() {} };
  }
  const socket = target.tls
    ? tlsConnect({ host: target.host, port: target.port, ...target.tls })
    : netConnect({ host: target.host, port: target.port });
  let done = false;
  let parser: ResponseParser | undefined;
  let pending: Buffer | undefined;
  const fail = (err: Error) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    h.onError(err);
  };
  // Until the connection is up nothing was written: such a failure may go to another target.
  let connected = false;
  let timer = setTimeout(
    () => fail(markUnsent(new H1Error('UND_ERR_CONNECT_TIMEOUT', 'upstream connect timeout'))),
    target.connectTimeout,
  );
  socket.once(target.tls ? 'secureConnect' : 'connect', () => {
    connected = true;
    clearTimeout(timer);
    timer = setTimeout(
      () => fail(new H1Error('UND_ERR_HEADERS_TIMEOUT', 'upstream did not answer the upgrade in time')),
      target.headersTimeout,
    );
    socket.write(head, 'latin1');
    if (early.length > 0) socket.write(early);
  });
  const onError = (e: Error) => fail(connected ? e : markUnsent(e));
  socket.on('error', onError);
  socket.on('end', () => {
    if (done) return;
    if (parser) {
      try {
        parser.eof();
      } catch (e) {
        return fail(e as Error);
      }
      if (!parser.active) return;
    }
    fail(new H1Error('UND_ERR_SOCKET', 'upstream closed the connection during the upgrade'));
  });
  const declined: ParserEvents = {
    onHead: (status, text, raw) => {
      clearTimeout(timer);
      h.declined.onHead(status, text, raw);
    },
    onInformational: () => undefined,
    onBody: (chunk, last) => h.declined.onBody(chunk, last),
    onEnd: (reusable) => {
      done = true;
      socket.destroy();
      h.declined.onEnd(reusable);
    },
  };
  const onData = (data: Buffer) => {
    if (done) return;
    try {
      if (parser) return parser.execute(data);
      const buf = pending ? Buffer.concat([pending, data]) : data;
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > MAX_HEAD)
          throw new H1Error('HPE_HEADER_OVERFLOW', 'upgrade response head too large');
        pending = buf;
        return;
      }
      pending = undefined;
      const lines = buf.toString('latin1', 0, end).split('\r\n');
      const m = STATUS.exec(lines[0] as string);
      if (!m) throw new H1Error('HPE_INVALID_STATUS', 'invalid status line in the upgrade response');
      if (m[1] !== '101') {
        parser = new ResponseParser(declined);
        parser.reset(false);
        return parser.execute(buf);
      }
      const raw = fields(lines);
      if (!upgradesTo(raw, 'websocket'))
        throw new H1Error('HPE_INVALID_STATUS', '101 response without Upgrade: websocket');
      done = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeAllListeners('end');
      h.onSwitched(raw, socket, buf.subarray(end + 4));
    } catch (e) {
      fail(e as Error);
    }
  };
  socket.on('data', onData);
  return {
    abort() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
    },
    resume: () => socket.resume(),
    pause: () => socket.pause(),
  };
}

/** Field lines of a 101 head (RFC 9112 §5: no whitespace before the colon, no obs-fold). */
function fields(lines: string[]): string[] {
  const raw: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name) || FIELD_CTL.test(line))
      throw new H1Error('HPE_INVALID_HEADER_TOKEN', 'invalid header field in the upgrade response');
    raw.push(name, withoutOws(line, colon + 1, line.length));
  }
  return raw;
}

/** True when the `Upgrade` field names exactly `protocol` (case-insensitive, RFC 9110 §7.8). */
export function upgradesTo(raw: readonly string[], protocol: string): boolean {
  let found = false;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'upgrade') continue;
    if (found || (raw[i + 1] as string).trim().toLowerCase() !== protocol) return false;
    found = true;
  }
  return found;
}
