import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import type { RequestContext } from '../pipeline/context.js';
import { GatehouseError } from '../errors/index.js';
import { buildResponseHeaders } from './headers.js';
import { upstreamError } from './errors.js';
import { routeCacheOf, type CaptureSink, type RouteCache } from '../cache/cache.js';
import type { CachedResponse } from '../cache/store.js';

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
  const base = route.upstream.basePath;
  return (base ? base + p : p) + ctx.query;
}

/**
 * Streams one request to the route's upstream with undici's dispatch API and the response
 * back, without buffering either body: backpressure pauses the upstream when the client is
 * slow, and the client's disconnect aborts the upstream request. On routes with `cache:` a fresh
 * stored response answers instead, and storable responses are captured while they stream.
 */
export function forward(
  ctx: RequestContext,
  headers: string[],
  hasBody: boolean,
  maxBody: number,
  done: ForwardDone,
): void {
  const cache = hasBody ? undefined : routeCacheOf(ctx);
  if (!cache) return dispatch(ctx, headers, hasBody, maxBody, done, undefined);
  const answer = (hit: CachedResponse | undefined) => {
    if (!hit) return dispatch(ctx, headers, hasBody, maxBody, done, cache);
    cache.serve(ctx, hit);
    done(ctx, ctx.res.statusCode, hit.body.length);
  };
  const hit = cache.lookup(ctx);
  if (hit instanceof Promise) hit.then(answer, () => answer(undefined));
  else answer(hit);
}

/** Sends the request upstream; `cache` (the route's response cache) receives storable responses. */
function dispatch(
  ctx: RequestContext,
  headers: string[],
  hasBody: boolean,
  maxBody: number,
  done: ForwardDone,
  cache: RouteCache | undefined,
): void {
  const route = ctx.route as NonNullable<RequestContext['route']>;
  const { req, res } = ctx;
  let abort: ((err?: Error) => void) | undefined;
  let sink: CaptureSink | undefined;
  let bytes = 0;
  let finished = false;
  const finish = (status: number, err?: GatehouseError) => {
    if (finished) return;
    finished = true;
    res.removeListener('close', onClientClose);
    done(ctx, status, bytes, err);
  };
  const onClientClose = () => {
    if (!res.writableFinished) {
      sink?.abort();
      abort?.(new Error('client closed'));
      if (!finished) {
        finished = true;
        ctx.reasons.push('client.aborted');
        done(ctx, 499, bytes);
      }
    }
  };
  res.once('close', onClientClose);

  const body = hasBody
    ? Number.isFinite(maxBody) && req.headers['content-length'] === undefined
      ? limitedBody(req, maxBody)
      : req
    : null;

  const handler: Dispatcher.DispatchHandler = {
    onConnect(a: (err?: Error) => void) {
      abort = a;
    },
    onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string) {
      if (statusCode < 200) return true;
      ctx.upstreamStatus = statusCode;
      ctx.upstreamStart = process.hrtime.bigint();
      sink = cache?.capture(ctx, statusCode, rawHeaders);
      res.writeHead(statusCode, statusText, buildResponseHeaders(rawHeaders, ctx));
      res.on('drain', resume);
      return true;
    },
    onData(chunk: Buffer) {
      bytes += chunk.length;
      sink?.write(chunk);
      return res.write(chunk);
    },
    onComplete() {
      ctx.upstreamEnd = process.hrtime.bigint();
      sink?.end();
      res.end();
      finish(ctx.upstreamStatus ?? 502);
    },
    onError(err: Error) {
      ctx.upstreamEnd = process.hrtime.bigint();
      sink?.abort();
      const cause = body && body !== req ? (body as Readable).errored : undefined;
      const gerr = cause instanceof GatehouseError ? cause : upstreamError(err, route.upstream.name);
      if (res.headersSent) {
        ctx.reasons.push(gerr.code);
        res.destroy();
        finish(ctx.upstreamStatus ?? gerr.status, gerr);
      } else {
        finish(gerr.status, gerr);
      }
    },
  } as unknown as Dispatcher.DispatchHandler;

  ctx.upstreamDispatch = process.hrtime.bigint();
  route.upstream.pool.dispatch(
    {
      origin: route.upstream.origin,
      path: upstreamPath(ctx),
      method: ctx.method as Dispatcher.HttpMethod,
      headers,
      body,
      idempotent: false,
    },
    handler,
  );
}

/**
 * A chunked request body that errors with GH_BODY_TOO_LARGE once it passes `max` bytes. The
 * client's socket stays open so the 413 can still be written (with `Connection: close`).
 */
function limitedBody(req: IncomingMessage, max: number): Readable {
  let seen = 0;
  const out = new Readable({
    read() {
      req.resume();
    },
  });
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > max) {
      req.pause();
      req.removeAllListeners('data');
      out.destroy(new GatehouseError('GH_BODY_TOO_LARGE', `chunked body exceeded ${max} bytes`));
      return;
    }
    if (!out.push(chunk)) req.pause();
  });
  req.once('end', () => out.push(null));
  req.once('error', (e) => out.destroy(e));
  return out;
}
