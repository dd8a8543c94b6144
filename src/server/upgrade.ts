import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { RequestHandler } from './handler.js';
import type { Context } from './context.js';
import { GatehouseError } from '../errors/index.js';
import { upstreamPath } from '../upstream/forward.js';
import { upstreamError } from '../upstream/errors.js';
import { buildResponseHeaders } from '../upstream/headers.js';
import { openTunnel, upgradesTo, type Tunnel, type TunnelHandler } from '../upstream/tunnel.js';
import { openFarmTunnel } from '../upstream/farm/tunnel.js';
import { upstreamOf } from '../upstream/pool.js';
import { requestHasBody } from './handler.js';

/** How long a client connection may stay half-closed after the answer to a refused upgrade. */
const LINGER_MS = 2000;

/**
 * An HTTP/1.1 request with `Connection: upgrade` (Node hands such a request over with its raw
 * socket). It runs through the same pipeline as any request — normalise, match, authenticate,
 * authorise, strip and inject — and then:
 * - `Upgrade: websocket` on a route with `websocket: true`: a tunnel to the upstream; an upstream
 *   that declines (any status but 101) is relayed as it answered;
 * - `Upgrade: websocket` elsewhere: 400 `GH_UPGRADE_NOT_ALLOWED`;
 * - any other protocol (`h2c`, `TLS/1.2`…): the upgrade is ignored (RFC 9110 §7.8 lets a server
 *   do so) and a request without content is served as plain HTTP/1.1; one with content is
 *   refused with 400 `GH_UPGRADE_NOT_ALLOWED`, because its body was never parsed.
 * Every answer other than a 101 ends the connection (`Connection: close`): the socket left
 * Node's HTTP parser and is never reused for another request.
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
  res.once('finish', () => {
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
  const websocket = upgradesTo(req.rawHeaders, 'websocket');
  if (!websocket) {
    if (requestHasBody(req)) {
      const ctx = handler.context(req, res, secure);
      return handler.fail(
        ctx,
        new GatehouseError('GH_UPGRADE_NOT_ALLOWED', `Upgrade: ${String(req.headers.upgrade)} with a body`),
      );
    }
    return handler.handleIgnoringUpgrade(req, res, secure);
  }
  handler.handleUpgrade(req, res, secure, (ctx, headers) => {
    const route = ctx.route;
    if (!route) return;
    if (!route.websocket) {
      handler.fail(
        ctx,
        new GatehouseError('GH_UPGRADE_NOT_ALLOWED', `route ${route.name} does not allow WebSocket upgrades`),
      );
      return;
    }
    tunnel(handler, ctx, socket as Socket, head, headers);
  });
}

/** Opens the upstream tunnel and splices the two sockets, or relays the upstream's refusal. */
function tunnel(
  handler: RequestHandler,
  ctx: Context,
  socket: Socket,
  head: Buffer,
  headers: string[],
): void {
  const route = ctx.route as NonNullable<Context['route']>;
  const res = ctx.res;
  let bytes = 0;
  const upstream = upstreamOf(route);
  ctx.upstreamDispatch = performance.now();
  let live: Tunnel | undefined = undefined;
  const th: TunnelHandler = {
    onSwitched(raw, up, rest) {
      ctx.upstreamStart = performance.now();
      ctx.upstreamStatus = 101;
      const out = buildResponseHeaders(raw, ctx);
      let text = 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n';
      for (let i = 0; i < out.length; i += 2) text += `${out[i] as string}: ${out[i + 1] as string}\r\n`;
      res.detachSocket(socket);
      socket.removeListener('close', onClientClose);
      socket.write(`${text}\r\n`);
      if (rest.length > 0) socket.write(rest);
      handler.recordUpgrade(ctx, 101, 0);
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
      up.on('close', () => socket.destroy());
      socket.on('close', () => up.destroy());
      up.pipe(socket);
      socket.pipe(up);
    },
    declined: {
      onHead(status, text, raw) {
        ctx.upstreamStart = performance.now();
        ctx.upstreamStatus = status;
        res.writeHead(status, text, buildResponseHeaders(raw, ctx));
      },
      onInformational: () => undefined,
      onBody(chunk) {
        bytes += chunk.length;
        if (!res.write(chunk)) {
          live?.pause();
          res.once('drain', () => live?.resume());
        }
      },
      onEnd() {
        ctx.upstreamEnd = performance.now();
        socket.removeListener('close', onClientClose);
        res.end();
        ctx.reasons.push('upgrade.declined');
        handler.recordUpgrade(ctx, ctx.upstreamStatus ?? 502, bytes);
      },
    },
    onError(err) {
      socket.removeListener('close', onClientClose);
      const gerr = upstreamError(err, route.upstream.name);
      if (res.headersSent) {
        socket.destroy();
        handler.recordUpgrade(ctx, ctx.upstreamStatus ?? gerr.status, bytes, gerr);
      } else handler.fail(ctx, gerr);
    },
  };
  const path = upstreamPath(ctx);
  const t = upstream.farm
    ? openFarmTunnel(upstream.farm, ctx, path, headers, head, th)
    : openTunnel(upstream.target, path, headers, head, th);
  if (t instanceof GatehouseError) return handler.fail(ctx, t);
  live = t;
  const onClientClose = () => {
    t.abort();
    ctx.reasons.push('client.aborted');
    handler.recordUpgrade(ctx, 499, bytes);
  };
  socket.once('close', onClientClose);
}
