import type { ServerResponse } from 'node:http';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import { checkIisSegments, normalizeTarget } from '../http/normalize.js';
import type { RequestContext } from '../pipeline/context.js';
import type { CompiledRoute } from '../pipeline/route.js';
import type { InternalEndpoint } from '../pipeline/stages.js';
import type { Router } from '../routing/router.js';
import { hostOnly } from '../server/context.js';
import { runStages } from '../server/stages.js';

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
const METHOD = /^[A-Z]{1,16}$/;

/** Path of the forward-auth endpoint (Traefik ForwardAuth, Caddy forward_auth, generic). */
export const AUTH_PATH = '/.gatehouse/auth';
/** nginx `auth_request` variant: login redirects become 401 + Location, other denials 401/403. */
export const AUTH_PATH_NGINX = '/.gatehouse/auth/nginx';

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
function originalRequest(ctx: RequestContext): { uri: string; method: string; hostHeader: string } {
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
  const hostHeader = one(h['x-forwarded-host'], 'X-Forwarded-Host') ?? ctx.hostHeader;
  if (!HOST.test(hostHeader))
    throw new GatehouseError('GH_FORWARD_AUTH_BAD_REQUEST', `bad host ${JSON.stringify(hostHeader)}`);
  return { uri, method, hostHeader };
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

function forNginx(e: unknown): unknown {
  if (!isGatehouseError(e) || e.status === 401 || e.status === 403) return e;
  return new GatehouseError(e.code, e.detail, {
    headers: { ...e.headers, 'X-Gatehouse-Error': e.code },
    reasons: e.reasons,
    status: 403,
    cause: e,
  });
}

/**
 * Answers a forward-auth check: re-targets the context to the original request, normalises and
 * matches it with the same router, then runs the same stages as inline mode (`runStages`).
 * Allowed → 200 carrying the identity headers to copy (`ctx.inject`) plus Gatehouse's response
 * headers (Set-Cookie, RateLimit). Denied → the usual 401/403/429 error (nginx: 401/403 only).
 */
async function check(
  ctx: RequestContext,
  router: () => Router<CompiledRoute>,
  nginx: boolean,
): Promise<void> {
  if (!ctx.peerTrusted)
    throw new GatehouseError(
      'GH_FORWARD_AUTH_UNTRUSTED',
      `peer ${ctx.peer} is not in server.trusted_proxies`,
    );
  const orig = originalRequest(ctx);
  const target = normalizeTarget(orig.uri, orig.hostHeader);
  // The context now describes the original request: matching, rules, limits and audit all see it.
  const c = ctx as { -readonly [K in keyof RequestContext]: RequestContext[K] };
  c.method = orig.method;
  c.hostHeader = orig.hostHeader;
  c.host = hostOnly(orig.hostHeader);
  c.path = target.path;
  c.query = target.query;
  ctx.extra['forwardAuth'] = true;
  const m = router().match(ctx.host, ctx.path, ctx.method);
  if ('error' in m) throw new GatehouseError(m.error, `${ctx.method} ${ctx.host}${ctx.path}`);
  ctx.route = m.route;
  if (m.route.caseInsensitive) checkIisSegments(ctx.path);
  if (nginx) redirectsAs401(ctx.res);
  if (await runStages(ctx)) return;
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

/** The two forward-auth endpoints; `router` returns the current state's router. */
export function forwardAuthEndpoints(router: () => Router<CompiledRoute>): InternalEndpoint[] {
  return [
    { path: AUTH_PATH, handle: (ctx) => check(ctx, router, false) },
    {
      path: AUTH_PATH_NGINX,
      handle: (ctx) =>
        check(ctx, router, true).catch((e: unknown) => {
          throw forNginx(e);
        }),
    },
  ];
}
