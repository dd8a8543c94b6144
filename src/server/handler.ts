import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { RuntimeState } from '../config/compile.js';
import type { RequestContext } from '../pipeline/context.js';
import type { InternalEndpoint } from '../pipeline/stages.js';
import type { CompiledRoute } from '../pipeline/route.js';
import { GatehouseError } from '../errors/index.js';
import { normalizeTarget } from '../http/normalize.js';
import { buildUpstreamHeaders } from '../upstream/headers.js';
import { resourceMetadataParam } from '../identity/prm.js';
import { forward } from '../upstream/forward.js';
import { upstreamOf } from '../upstream/pool.js';
import { Context } from './context.js';
import { sendError } from './respond.js';
import { errorPageOptions } from './error-page.js';
import { runStages } from './stages.js';
import type { Admission } from './admission.js';
import { lingerAfter } from './linger.js';

/** Records the end of a request: one audit event and one access-log line. */
export interface RequestRecorder {
  record(ctx: RequestContext, status: number, bytes: number, err?: GatehouseError): void;
}

/** What the handler needs from the gateway: the current state (swapped on reload) and lifecycle flags. */
export interface HandlerHost {
  readonly state: RuntimeState;
  readonly recorder: RequestRecorder;
  readonly logger: Logger;
  readonly draining: boolean;
  readonly ready: boolean;
  /** True while an audit sink with `on_failure: block` cannot write: requests are refused (503). */
  readonly auditUnavailable?: boolean;
  /** Per-client caps: every request counts as in flight from `run` until it is recorded. */
  readonly admission: Admission;
}

const SMUGGLING_TE = /^\s*chunked\s*$/i;

/** Fail closed: an audit sink with `on_failure: block` cannot write. */
function auditUnavailable(): GatehouseError {
  return new GatehouseError('GH_AUDIT_UNAVAILABLE', 'an audit sink with on_failure: block cannot write', {
    headers: { 'Retry-After': '5' },
  });
}

/** True when the request has a body to forward (RFC 9112 §6.3). */
export function requestHasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/** Throws GH_BAD_HOST for repeated Host lines, GH_REQUEST_SMUGGLING for framing an upstream could read differently. */
function checkFraming(req: IncomingMessage): void {
  // RFC 9112 §3.2: more than one Host line is a 400 (Node keeps the first; a proxy in front may
  // route on the last, and the two would disagree about the route).
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i] as string;
    if (n.length === 4 && n.toLowerCase() === 'host' && ++hosts > 1)
      throw new GatehouseError('GH_BAD_HOST', 'more than one Host header');
  }
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (req.headers['content-length'] !== undefined) {
      throw new GatehouseError('GH_REQUEST_SMUGGLING', 'both Content-Length and Transfer-Encoding');
    }
    if (!SMUGGLING_TE.test(te))
      throw new GatehouseError('GH_REQUEST_SMUGGLING', `transfer coding "${te}" is not supported`);
  }
}

/**
 * RFC 9110 §15.5.20, RFC 8446 §4.4.2.2: a TLS connection set up for one server name (SNI) must
 * not carry requests for another host (a connection made without client-certificate
 * requirements, or under another certificate, reused to reach a host with them): 421.
 * Connections without SNI (IP literals) are not bound to a name.
 */
function checkServerName(ctx: Context): void {
  const socket = ctx.req.socket as TLSSocket | undefined;
  if (socket?.encrypted !== true) return;
  const sni = socket.servername;
  if (typeof sni !== 'string' || sni === '') return;
  const name = sni.endsWith('.') ? sni.slice(0, -1).toLowerCase() : sni.toLowerCase();
  if (name === ctx.host) return;
  ctx.res.shouldKeepAlive = false;
  throw new GatehouseError('GH_MISDIRECTED_REQUEST', `TLS server name ${name}, Host ${ctx.host}`);
}

/** Normalises a request target into `ctx.path` / `ctx.query` (throws GH_PATH_AMBIGUOUS…). */
export function normalizeInto(ctx: RequestContext, target: string): void {
  const t = normalizeTarget(target, ctx.hostHeader);
  ctx.path = t.path;
  ctx.query = t.query;
}

/**
 * Matches `ctx` against the route table and sets `ctx.route`; throws GH_ROUTE_NOT_FOUND /
 * GH_METHOD_NOT_ALLOWED, or GH_PATH_AMBIGUOUS for trailing-dot segments on IIS routes.
 * Inline proxying and forward-auth both call this, so they decide identically.
 */
export function matchRoute(ctx: RequestContext, state: Pick<RuntimeState, 'router'>): CompiledRoute {
  const m = state.router.match(ctx.host, ctx.path, ctx.method);
  if ('error' in m) {
    if (m.error === 'GH_METHOD_NOT_ALLOWED') {
      throw new GatehouseError(m.error, `${ctx.method} ${ctx.host}${ctx.path}`, {
        headers: { allow: m.allow.join(', ') },
      });
    }
    throw new GatehouseError(m.error, 'detail' in m ? m.detail : `${ctx.method} ${ctx.host}${ctx.path}`);
  }
  ctx.route = m.route;
  return m.route;
}

/**
 * RFC 9728 §5.1: a Bearer challenge on a protected resource names its metadata document, so
 * agents and MCP clients can discover the authorization server from the 401 alone.
 */
function addResourceMetadata(ctx: RequestContext, err: GatehouseError): void {
  const challenge = err.headers?.['WWW-Authenticate'];
  if (challenge === undefined || !challenge.startsWith('Bearer ')) return;
  const rm = resourceMetadataParam(ctx);
  if (rm) ctx.responseHeaders.set('WWW-Authenticate', `Bearer ${rm}, ${challenge.slice(7)}`);
}

function findEndpoint(state: RuntimeState, path: string): InternalEndpoint | undefined {
  const ep = state.endpoints.exact.get(path);
  if (ep) return ep;
  for (const p of state.endpoints.prefixes) {
    if (path === p.path || path.startsWith(p.path.endsWith('/') ? p.path : `${p.path}/`)) return p;
  }
  return undefined;
}

/**
 * The request handler: normalise → reserved endpoints → match → stages → forward → record.
 * A public route with no limiters or mutators takes a synchronous fast path with no Promise.
 */
export class RequestHandler {
  constructor(private readonly host: HandlerHost) {}

  /** `secure` is true on TLS listeners; `expectContinue` when the client sent `Expect: 100-continue`. */
  handle(req: IncomingMessage, res: ServerResponse, secure: boolean, expectContinue = false): void {
    const ctx = new Context(req, res, this.host.state, secure);
    this.run(ctx, expectContinue ? this.forwardContinue : this.forwardPlain);
  }

  /** A context for a request refused before the pipeline runs (see {@link RequestHandler.fail}). */
  context(req: IncomingMessage, res: ServerResponse, secure: boolean): Context {
    return new Context(req, res, this.host.state, secure);
  }

  /** A request whose `Upgrade` (h2c…) is ignored: served like any request (RFC 9110 §7.8). */
  handleIgnoringUpgrade(req: IncomingMessage, res: ServerResponse, secure: boolean): void {
    const ctx = new Context(req, res, this.host.state, secure);
    ctx.reasons.push('upgrade.ignored');
    this.run(ctx, this.forwardPlain);
  }

  /** An Upgrade request: same pipeline, then `proceed` opens the tunnel with the built headers. */
  handleUpgrade(
    req: IncomingMessage,
    res: ServerResponse,
    secure: boolean,
    proceed: (ctx: Context, headers: string[]) => void,
  ): void {
    const ctx = new Context(req, res, this.host.state, secure);
    ctx.extra.upgrade = true;
    this.run(ctx, (c) => proceed(c, buildUpstreamHeaders(c)));
  }

  /** Records an Upgrade request: the tunnel set up (101) or the upstream's relayed refusal. */
  recordUpgrade(ctx: RequestContext, status: number, bytes: number, err?: GatehouseError): void {
    this.record(ctx, status, bytes, err);
  }

  /** Records a finished request (once) and frees its in-flight slot. */
  private record(ctx: RequestContext, status: number, bytes: number, err?: GatehouseError): void {
    this.host.admission.leave(ctx);
    if (ctx.tracing !== undefined) ctx.tracing.end(status, err);
    this.host.recorder.record(ctx, status, bytes, err);
  }

  private readonly forwardPlain = (ctx: Context) => this.forward(ctx, false);
  private readonly forwardContinue = (ctx: Context) => this.forward(ctx, true);

  private run(ctx: Context, proceed: (ctx: Context) => void): void {
    const host = this.host;
    const state = host.state;
    const req = ctx.req;
    if (state.tracer !== undefined) ctx.tracing = state.tracer.start(ctx);
    try {
      const busy = host.admission.enter(ctx);
      if (busy !== undefined) throw busy;
      if (host.draining) ctx.res.shouldKeepAlive = false;
      if (!ctx.hostValid)
        throw new GatehouseError('GH_BAD_HOST', `Host header ${JSON.stringify(ctx.hostHeader)}`);
      checkFraming(req);
      normalizeInto(ctx, req.url ?? '');
      if (ctx.path.startsWith('/.gatehouse/') || ctx.path.startsWith('/.well-known/')) {
        const ep = findEndpoint(state, ctx.path);
        if (ep) return this.endpoint(ctx, ep, state);
        if (ctx.path.startsWith('/.gatehouse/'))
          throw new GatehouseError('GH_ROUTE_NOT_FOUND', `no internal endpoint ${ctx.path}`);
      } else if (state.endpoints.outside?.has(ctx.path)) {
        return this.endpoint(ctx, state.endpoints.exact.get(ctx.path) as InternalEndpoint, state);
      }
      if (!host.ready) throw new GatehouseError('GH_NOT_READY');
      if (host.auditUnavailable === true) throw auditUnavailable();
      if (ctx.scheme === 'https') checkServerName(ctx);
      const route = matchRoute(ctx, state);
      const cl = req.headers['content-length'];
      if (cl !== undefined && Number(cl) > route.maxBodySize) {
        throw new GatehouseError('GH_BODY_TOO_LARGE', `content-length ${cl} > ${route.maxBodySize}`);
      }
      if (route.fastPath) {
        ctx.reasons.push('route.public');
        return proceed(ctx);
      }
      const outcome = runStages(ctx);
      if (typeof outcome === 'boolean') {
        if (outcome) this.finishInternal(ctx);
        else proceed(ctx);
        return;
      }
      outcome.then(
        (handled) => {
          if (handled) this.finishInternal(ctx);
          else proceed(ctx);
        },
        (err: unknown) => this.fail(ctx, err),
      );
    } catch (err) {
      this.fail(ctx, err);
    }
  }

  private endpoint(ctx: Context, ep: InternalEndpoint, state: RuntimeState): void {
    try {
      const r = ep.handle(ctx, state);
      if (r && typeof r.then === 'function') {
        r.then(
          () => this.finishInternal(ctx),
          (err: unknown) => this.fail(ctx, err),
        );
      } else this.finishInternal(ctx);
    } catch (err) {
      this.fail(ctx, err);
    }
  }

  /** Records a request answered by Gatehouse itself (endpoint or login redirect) once the response is done. */
  private finishInternal(ctx: Context): void {
    const res = ctx.res;
    const done = () => this.record(ctx, res.statusCode, Number(res.getHeader('content-length') ?? 0));
    if (res.writableFinished) done();
    else res.once('close', done);
  }

  private forward(ctx: Context, expectContinue: boolean): void {
    const req = ctx.req;
    const headers = buildUpstreamHeaders(ctx);
    if (ctx.tracing !== undefined)
      ctx.tracing.upstream(headers, upstreamOf(ctx.route as NonNullable<Context['route']>).authority);
    const hasBody = requestHasBody(req);
    if (expectContinue && hasBody) ctx.res.writeContinue();
    forward(
      ctx,
      headers,
      hasBody,
      (ctx.route as NonNullable<Context['route']>).maxBodySize,
      (c, status, bytes, err) => {
        if (err && !c.res.headersSent) return this.fail(c as Context, err);
        this.record(c, status, bytes, err);
      },
      this.host.state.config.server.request_buffer_size,
    );
  }

  /** Answers with the error's status and code, and records the request. Never throws. */
  fail(ctx: Context, e: unknown): void {
    let err: GatehouseError;
    if (e instanceof GatehouseError) err = e;
    else {
      this.host.logger.error({ err: e, req_id: ctx.id }, 'unexpected error while handling a request');
      err = new GatehouseError('GH_INTERNAL', String((e as Error)?.message ?? e));
    }
    for (const r of err.reasons) if (!ctx.reasons.includes(r)) ctx.reasons.push(r);
    const res = ctx.res;
    if (err.status === 401) addResourceMetadata(ctx, err);
    // The body is still arriving: close so that the client reads this answer (never reset).
    if (!res.headersSent && requestHasBody(ctx.req) && !ctx.req.complete) lingerAfter(res);
    const page = errorPageOptions(ctx, this.host.state);
    sendError(res, err, ctx.id, ctx.req.headers.accept, ctx.responseHeaders, ctx.method, page);
    this.record(ctx, err.status, 0, err);
  }
}
