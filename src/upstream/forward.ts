import type { Readable } from 'node:stream';
import type { H1Exchange, H1Handler } from './h1/client.js';
import type { RequestContext } from '../pipeline/context.js';
import { GatehouseError } from '../errors/index.js';
import { buildResponseHeaders } from './headers.js';
import { upstreamError } from './errors.js';
import { routeCacheOf, type CaptureSink, type RouteCache } from '../cache/cache.js';
import type { CachedResponse } from '../cache/store.js';
import { bufferBody } from './body-buffer.js';
import { upstreamOf } from './pool.js';

/** Called once when the exchange ends: `err` set when Gatehouse must answer with an error. */
export type ForwardDone = (ctx: RequestContext, status: number, bytes: number, err?: GatehouseError) => void;

/** The upstream request target: base path + (rewritten) normalised path + raw query. */
export function upstreamPath(ctx: RequestContext): string {
  const route = ctx.route;
  if (!route) return ctx.path + ctx.query;
  let p = ctx.path;
  if (route.stripPrefix !== undefined) {
    const prefix = route.stripPrefix;
    const cmp = route.caseInsensitive ? p.toLowerCase() : p;
    if (cmp === prefix || cmp.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)) {
      p = p.slice(prefix.length);
      const rw = route.rewritePrefix ?? '';
      p = rw + (p.startsWith('/') || p === '' ? p : `/${p}`);
      if (rw.endsWith('/') && p.startsWith('//', rw.length - 1)) p = rw + p.slice(rw.length + 1);
      if (p === '') p = '/';
    }
  }
  const base = upstreamOf(route).basePath;
  return (base ? base + p : p) + ctx.query;
}

/**
 * Sends one request to the route's upstream over a keep-alive connection and streams the
 * response back: backpressure pauses the upstream when the client is slow, and the client's
 * disconnect aborts the upstream request. A request body is first read up to `bufferSize` bytes
 * ({@link bufferBody}) so no upstream connection waits on a slow client; a body that fits is
 * sent whole, a larger one streams. On routes with `cache:` a fresh stored response answers
 * instead, and storable responses are captured while they stream.
 */
export function forward(
  ctx: RequestContext,
  headers: string[],
  hasBody: boolean,
  maxBody: number,
  done: ForwardDone,
  bufferSize = 0,
): void {
  if (hasBody) return forwardWithBody(ctx, headers, maxBody, bufferSize, done);
  const cache = routeCacheOf(ctx);
  if (!cache) return dispatch(ctx, headers, null, undefined, done, undefined);
  const answer = (hit: CachedResponse | undefined) => {
    if (!hit) return dispatch(ctx, headers, null, undefined, done, cache);
    cache.serve(ctx, hit);
    done(ctx, ctx.res.statusCode, hit.body.length);
  };
  const hit = cache.lookup(ctx);
  if (hit instanceof Promise) hit.then(answer, () => answer(undefined));
  else answer(hit);
}

/** Buffers the start of the body (nothing upstream yet), then sends the request. */
function forwardWithBody(
  ctx: RequestContext,
  headers: string[],
  maxBody: number,
  bufferSize: number,
  done: ForwardDone,
): void {
  const cl = ctx.req.headers['content-length'];
  // Node's parser accepted the framing: a Content-Length here is one valid decimal number.
  const declared = cl === undefined ? undefined : Number(cl);
  bufferBody(
    ctx.req,
    ctx.res,
    { buffer: bufferSize, max: maxBody, declared },
    {
      ready: (body) => dispatch(ctx, headers, body, declared, done, undefined),
      refused: (err) => done(ctx, err.status, 0, err),
      aborted: () => {
        ctx.reasons.push('client.aborted');
        done(ctx, 499, 0);
      },
    },
  );
}

/** Sends the request upstream; `cache` (the route's response cache) receives storable responses. */
function dispatch(
  ctx: RequestContext,
  headers: string[],
  body: Readable | Buffer | null,
  contentLength: number | undefined,
  done: ForwardDone,
  cache: RouteCache | undefined,
): void {
  const route = ctx.route as NonNullable<RequestContext['route']>;
  const ex = new Exchange(ctx, body, done, cache);
  ctx.upstreamDispatch = performance.now();
  const req = { method: ctx.method, path: upstreamPath(ctx), headers, body, contentLength };
  const upstream = upstreamOf(route);
  const farm = upstream.farm;
  if (upstream.delegate !== undefined) ex.exchange = upstream.delegate.request(ctx, req, ex);
  else ex.exchange = farm === undefined ? upstream.client.request(req, ex) : farm.request(ctx, req, ex);
}

/** One proxied exchange: relays the upstream response to the client as it streams. */
class Exchange implements H1Handler {
  exchange: H1Exchange | undefined;
  private sink: CaptureSink | undefined;
  private bytes = 0;
  private finished = false;
  private ended = false;
  private draining = false;
  private readonly onClientClose = () => {
    if (this.ctx.res.writableFinished) return;
    this.sink?.abort();
    this.exchange?.abort();
    if (!this.finished) {
      this.finished = true;
      this.ctx.reasons.push('client.aborted');
      this.done(this.ctx, 499, this.bytes);
    }
  };
  private readonly onDrain = () => this.exchange?.resume();

  constructor(
    private readonly ctx: RequestContext,
    private readonly body: Readable | Buffer | null,
    private readonly done: ForwardDone,
    private readonly cache: RouteCache | undefined,
  ) {
    ctx.res.once('close', this.onClientClose);
  }

  private finish(status: number, err?: GatehouseError): void {
    if (this.finished) return;
    this.finished = true;
    this.ctx.res.removeListener('close', this.onClientClose);
    this.done(this.ctx, status, this.bytes, err);
  }

  onHeaders(statusCode: number, statusText: string, raw: string[]): void {
    const { ctx } = this;
    ctx.upstreamStatus = statusCode;
    ctx.upstreamStart = performance.now();
    this.sink = this.cache?.capture(ctx, statusCode, raw);
    ctx.res.writeHead(statusCode, statusText, buildResponseHeaders(raw, ctx));
  }

  onData(chunk: Buffer, last: boolean): boolean {
    this.bytes += chunk.length;
    this.sink?.write(chunk);
    const res = this.ctx.res;
    if (last) {
      // Head and the whole body in one write.
      this.ended = true;
      res.end(chunk);
      return true;
    }
    if (res.write(chunk)) return true;
    if (!this.draining) {
      this.draining = true;
      res.on('drain', this.onDrain);
    }
    return false;
  }

  onComplete(): void {
    const { ctx } = this;
    ctx.upstreamEnd = performance.now();
    this.sink?.end();
    if (!this.ended) ctx.res.end();
    this.finish(ctx.upstreamStatus ?? 502);
  }

  onError(err: Error): void {
    const { ctx, body } = this;
    ctx.upstreamEnd = performance.now();
    this.sink?.abort();
    const cause = body !== null && !Buffer.isBuffer(body) ? body.errored : undefined;
    const route = ctx.route as NonNullable<RequestContext['route']>;
    const gerr = cause instanceof GatehouseError ? cause : upstreamError(err, route.upstream.name);
    if (ctx.res.headersSent) {
      ctx.reasons.push(gerr.code);
      ctx.res.destroy();
      this.finish(ctx.upstreamStatus ?? gerr.status, gerr);
    } else {
      this.finish(gerr.status, gerr);
    }
  }
}
