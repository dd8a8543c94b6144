import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { RequestHandler } from './handler.js';
import { GatehouseError } from '../errors/index.js';
import { upstreamPath } from '../upstream/forward.js';
import { upstreamError } from '../upstream/errors.js';

/**
 * Proxies an HTTP/1.1 Upgrade (WebSocket) request through the same pipeline as any request:
 * normalise, match, authenticate, authorise, strip and inject. Errors are answered on the raw
 * socket with the usual error body; on success the two sockets are piped together.
 */
export function handleUpgrade(
  handler: RequestHandler,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  secure: boolean,
): void {
  const res = new ServerResponse(req);
  res.assignSocket(socket as Socket);
  res.shouldKeepAlive = false;
  socket.on('error', () => socket.destroy());
  handler.handleUpgrade(req, res, secure, (ctx, headers) => {
    const route = ctx.route;
    if (!route) return;
    if (head.length) socket.unshift(head);
    route.upstream.pool.upgrade(
      {
        path: upstreamPath(ctx),
        method: ctx.method as 'GET',
        headers: upgradeHeaders(req, headers),
        protocol: String(req.headers.upgrade ?? 'websocket'),
      },
      (err, data) => {
        if (err || !data) {
          const gerr = err instanceof GatehouseError ? err : upstreamError(err, route.upstream.name);
          handler.fail(ctx, gerr);
          return;
        }
        const up = data.socket;
        const lines = ['HTTP/1.1 101 Switching Protocols'];
        const h = data.headers;
        for (const [k, v] of Object.entries(h)) {
          if (v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
        }
        res.detachSocket(socket as Socket);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        ctx.upstreamStatus = 101;
        handler.recordUpgrade(ctx);
        up.on('error', () => socket.destroy());
        socket.on('error', () => up.destroy());
        up.on('close', () => socket.destroy());
        socket.on('close', () => up.destroy());
        up.pipe(socket);
        socket.pipe(up);
      },
    );
  });
}

/** The upgrade needs `Connection: upgrade` and `Upgrade` back, which hop-by-hop removal dropped. */
function upgradeHeaders(req: IncomingMessage, headers: string[]): string[] {
  const out = headers.slice();
  for (const name of [
    'sec-websocket-key',
    'sec-websocket-version',
    'sec-websocket-protocol',
    'sec-websocket-extensions',
  ]) {
    const v = req.headers[name];
    if (typeof v === 'string' && !hasHeader(out, name)) out.push(name, v);
  }
  return out;
}

function hasHeader(flat: string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if ((flat[i] as string).toLowerCase() === name) return true;
  return false;
}
