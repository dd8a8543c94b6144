import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Longest a closing connection is kept reading (and discarding) after the response. */
export const LINGER_MS = 5000;
/** Most bytes read and discarded from a closing connection before it is cut. */
export const LINGER_BYTES = 8 * 1024 * 1024;

function noop(): void {}

/**
 * Closes a connection whose client may still be sending — the body of a refused request, a
 * request pipelined behind it — so that the client reliably reads the response (RFC 9112 §9.6):
 * writes `data` (a raw response, when given), half-closes the write side, then reads and drops
 * whatever still arrives until the client closes its side, {@link LINGER_MS} pass or
 * {@link LINGER_BYTES} arrived, and only then destroys the socket. Closing at once with unread
 * bytes makes the kernel answer with a reset, which can erase the response from the client's
 * receive buffer before it is read (the client sees ECONNRESET instead of a 413 or 401).
 *
 * From the call on no parser sees another byte of this connection: every other `data`
 * listener (the fast lane's, Node's HTTP parser's) is removed.
 */
export function lingeringClose(socket: Duplex, data?: string): void {
  if (socket.destroyed) return;
  socket.removeAllListeners('data');
  let left = LINGER_BYTES;
  const destroy = () => socket.destroy();
  const timer = setTimeout(destroy, LINGER_MS).unref();
  socket.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left <= 0) destroy();
  });
  // The client sent its FIN: nothing more arrives, so closing cannot provoke a reset; the
  // response still queued in our send buffer goes out before our FIN.
  socket.once('end', () => {
    if (socket.writableFinished) destroy();
    else socket.once('finish', destroy);
  });
  socket.once('close', () => clearTimeout(timer));
  socket.on('error', noop);
  if (data === undefined) socket.end();
  else socket.end(data);
  socket.resume();
}

/**
 * Makes the connection of `res` (Node's HTTP server) close with {@link lingeringClose} once the
 * response is written, instead of Node's `destroySoon()`, which destroys the socket as soon as
 * the response is flushed even while the client is still sending. Also marks the response
 * `Connection: close`. Responses without a socket of their own (the fast lane's) are left alone:
 * the fast lane never serves a request with a body.
 */
export function lingerAfter(res: ServerResponse): void {
  const socket = res.socket as Socket | null | undefined;
  if (socket === null || socket === undefined || socket.destroyed) return;
  res.shouldKeepAlive = false;
  if (!res.headersSent) res.setHeader('connection', 'close');
  // Node's `resOnFinish` calls `socket.destroySoon()` after a `Connection: close` response.
  socket.destroySoon = lingerSoon;
}

function lingerSoon(this: Socket): void {
  lingeringClose(this);
}
