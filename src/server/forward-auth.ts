import type { ServerResponse } from 'node:http';
import type { RuntimeState } from '../config/compile.js';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import type { RequestContext } from '../pipeline/context.js';
import type { InternalEndpoint } from '../pipeline/stages.js';
import { Context, HOST, type OriginalRequest } from './context.js';
import { matchRoute, normalizeInto } from './handler.js';
import type { RecordAs } from './recorder.js';
import { sendError } from './respond.js';
import { errorPageOptions } from './error-page.js';
import { runAuthorized, runStages } from './stages.js';
import type { ForwardAuthRuntime } from '../forward/feature.js';

const METHOD = /^[A-Z]{1,16}$/;

/** Path of the forward-auth endpoint (Traefik ForwardAuth, Caddy forward_auth, generic). */
export const AUTH_PATH = '/.gatehouse/auth';
/** nginx `auth_request` variant: login redirects become 401 + Location, other denials 401/403. */
export const AUTH_PATH_NGINX = '/.gatehouse/auth/nginx';
/**
 * Envoy `ext_authz` (HTTP service) prefix: Envoy sends the original method, headers and Host,
 * and the original path after `path_prefix: /.gatehouse/ext_authz`.
 */
export const AUTH_PATH_ENVOY = '/.gatehouse/ext_authz';

type Mode = 'generic' | 'nginx' | 'envoy';

function one(v: string | string[] | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v) || v.includes(','))
    throw new GatehouseError('GH_FORWARD_AUTH_BAD_REQUEST', `several ${name} values`);
  return v.trim();
}

/**
 * Reads the original request from the trusted proxy's headers: URI from `X-Forwarded-Uri` or
 * `X-Original-URI` (they must agree when both are sent), method from `X-Forwarded-Method` /
 * `X-Original-Method` (else the subrequest's own), host from `X-Forwarded-Host` (else Host).
 * Scheme and client address were already derived from X-Forwarded-Proto/-For for trusted peers.
 */
function originalRequest(ctx: RequestContext): OriginalRequest {
  const h = ctx.req.headers;
  const fwdUri = one(h['x-forwarded-uri'], 'X-Forwarded-Uri');
  const origUri = one(h['x-original-uri'], 'X-Original-URI');
  if (fwdUri !== undefined && origUri !== undefined && fwdUri !== origUri)
    throw new GatehouseError('GH_FORWARD_AUTH_BAD_REQUEST', 'X-Forwarded-Uri and X-Original-URI disagree');
  const uri = fwdUri ?? origUri;
  if (uri === undefined || !uri.startsWith('/'))
    throw new GatehouseError(
      'GH_FORWARD_AUTH_BAD_REQUEST',
      'missing or non-origin-form X-Forwarded-Uri / X-Original-URI',
    );
  const fwdMethod = one(h['x-forwarded-method'], 'X-Forwarded-Method');
  const origMethod = one(h['x-original-method'], 'X-Original-Method');
  if (fwdMethod !== undefined && origMethod !== undefined && fwdMethod !== origMethod)
    throw new GatehouseError(
      'GH_FORWARD_AUTH_BAD_REQUEST',
      'X-Forwarded-Method and X-Original-Method disagree',
    );
  const method = (fwdMethod ?? origMethod ?? ctx.req.method ?? 'GET').toUpperCase();
  if (!METHOD.test(method))
    throw new GatehouseError('GH_FORWARD_AUTH_BAD_REQUEST', `bad method ${JSON.stringify(method)}`);
  const host = one(h['x-forwarded-host'], 'X-Forwarded-Host') ?? ctx.hostHeader;
  if (!HOST.test(host))
    throw new GatehouseError('GH_FORWARD_AUTH_BAD_REQUEST', `bad host ${JSON.stringify(host)}`);
  return { method, scheme: ctx.scheme, host, uri, clientIp: ctx.clientIp };
}

/**
 * Envoy ext_authz (HTTP): the check request is the original request with the path prefixed, so
 * the original target is the raw target after the prefix; method and Host are the request's own.
 */
function envoyOriginal(ctx: RequestContext): OriginalRequest {
  const raw = ctx.req.url ?? '';
  if (!raw.startsWith(AUTH_PATH_ENVOY))
    throw new GatehouseError(
      'GH_FORWARD_AUTH_BAD_REQUEST',
      'ext_authz target must start with the literal prefix',
    );
  const rest = raw.slice(AUTH_PATH_ENVOY.length);
  const uri = rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
  if (!uri.startsWith('/'))
    throw new GatehouseError('GH_FORWARD_AUTH_BAD_REQUEST', 'ext_authz path must continue with "/"');
  const method = ctx.req.method ?? 'GET';
  return { method, scheme: ctx.scheme, host: ctx.hostHeader, uri, clientIp: ctx.clientIp };
}

/** nginx treats any auth answer other than 2xx/401/403 as an error: redirects become 401 (Location kept). */
function redirectsAs401(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    return (writeHead as (...a: unknown[]) => ServerResponse).call(
      this,
      status >= 300 && status < 400 ? 401 : status,
      ...rest,
    );
  } as ServerResponse['writeHead'];
}

function forNginx(e: GatehouseError): GatehouseError {
  if (e.status === 401 || e.status === 403) return e;
  return new GatehouseError(e.code, e.detail, {
    headers: { ...e.headers, 'X-Gatehouse-Error': e.code },
    reasons: e.reasons,
    status: 403,
    cause: e,
  });
}

function hasSetCookie(ctx: RequestContext): boolean {
  for (const k of ctx.responseHeaders.keys()) if (k.toLowerCase() === 'set-cookie') return true;
  return false;
}

/**
 * Decides on the original request `ctx` exactly like inline mode: normalise, match with the same
 * router, run the route's stages (or, on a decision-cache hit, the stages after authentication).
 * Allowed → 200 with the identity headers to copy (`ctx.inject`) and Gatehouse's response headers
 * (Set-Cookie, RateLimit). Throws GatehouseError to deny.
 */
async function decide(ctx: Context, uri: string, state: RuntimeState, rt: ForwardAuthRuntime): Promise<void> {
  normalizeInto(ctx, uri);
  const route = matchRoute(ctx, state);
  const cache = route.public ? undefined : rt.cache;
  const key = cache?.key(ctx);
  const known = key === undefined ? undefined : cache?.get(key);
  let handled: boolean;
  if (known !== undefined) {
    ctx.reasons.push('forward_auth.cache_hit');
    handled = await runAuthorized(ctx, known);
  } else {
    handled = await runStages(ctx);
    if (!handled && key !== undefined && ctx.principal !== undefined && !hasSetCookie(ctx))
      cache?.set(key, ctx.principal);
  }
  if (handled) return;
  const headers: Record<string, string | string[]> = {
    'cache-control': 'no-store',
    'content-length': '0',
    'x-request-id': ctx.id,
  };
  for (const [k, v] of ctx.responseHeaders) headers[k] = v;
  for (const [k, v] of ctx.inject) headers[k] = v;
  ctx.res.writeHead(200, headers);
  ctx.res.end();
}

/**
 * Answers a forward-auth check. Only trusted proxies may ask. The original request gets its own
 * {@link Context} (method, scheme, host, URI and client address from the proxy's headers), which
 * is the one audited, counted and logged (`RecordAs`); errors are rendered with its request id.
 */
async function check(
  outer: RequestContext,
  state: RuntimeState,
  rt: ForwardAuthRuntime,
  mode: Mode,
): Promise<void> {
  if (!outer.peerTrusted)
    throw new GatehouseError(
      'GH_FORWARD_AUTH_UNTRUSTED',
      `peer ${outer.peer} is not in server.trusted_proxies`,
    );
  const nginx = mode === 'nginx';
  const orig = mode === 'envoy' ? envoyOriginal(outer) : originalRequest(outer);
  const ctx = new Context(outer.req, outer.res, state, orig.scheme === 'https', orig);
  ctx.extra['forwardAuth'] = true;
  outer.extra['recordAs'] = { ctx } satisfies RecordAs;
  if (nginx) redirectsAs401(ctx.res);
  try {
    await decide(ctx, orig.uri, state, rt);
  } catch (e) {
    let err: GatehouseError;
    if (isGatehouseError(e)) err = e;
    else {
      rt.logger.error({ err: e, req_id: ctx.id }, 'unexpected error in forward-auth');
      err = new GatehouseError('GH_INTERNAL', String((e as Error)?.message ?? e));
    }
    if (nginx) err = forNginx(err);
    for (const r of err.reasons) if (!ctx.reasons.includes(r)) ctx.reasons.push(r);
    outer.extra['recordAs'] = { ctx, err } satisfies RecordAs;
    // The operator's pages and branding; no sign-in links: the browser is on the proxy's host.
    const page = { pages: errorPageOptions(ctx, state).pages };
    sendError(ctx.res, err, ctx.id, outer.req.headers.accept, ctx.responseHeaders, outer.req.method, page);
  }
}

/** The forward-auth endpoints: generic (Traefik, Caddy), nginx `auth_request`, Envoy `ext_authz`. */
export function forwardAuthEndpoints(rt: ForwardAuthRuntime): InternalEndpoint<RuntimeState>[] {
  return [
    { path: AUTH_PATH, handle: (ctx, state) => check(ctx, state, rt, 'generic') },
    { path: AUTH_PATH_NGINX, handle: (ctx, state) => check(ctx, state, rt, 'nginx') },
    { path: AUTH_PATH_ENVOY, prefix: true, handle: (ctx, state) => check(ctx, state, rt, 'envoy') },
  ];
}
