import { readFile } from 'node:fs/promises';
import type { RuntimeState } from '../config/compile.js';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import { normalizeTarget, checkIisSegments } from '../http/normalize.js';
import { denyError } from '../authz/deny.js';
import { publicReasonOfError } from '../authz/public-reason.js';
import { hostOnly } from '../server/context.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Decision, TraceEntry } from '../pipeline/decision.js';
import type { Principal } from '../pipeline/principal.js';
import type { CompiledRoute } from '../pipeline/route.js';
import type { ExplainReport } from '../authz/explain-report.js';
import { explainToken } from '../authn/explain.js';
import type { ProviderRegistry } from '../authn/providers.js';
import type { SessionRuntime } from '../oidc/runtime.js';
import { explainSession, openSessionStore, type SessionInput } from './session.js';

/** The synthetic request `gatehouse explain METHOD URL` replays. */
export interface RequestArgs {
  readonly token: string | undefined;
  readonly headers: readonly [string, string][];
  readonly clientIp: string;
  readonly method: string;
  readonly url: string;
  /** `--cookie` (a Cookie header) or `--session-id`: evaluated against the session store. */
  readonly session?: SessionInput | undefined;
}

/** A usage problem found while explaining (bad URL, token file missing…): exit 2. */
export class UsageError extends Error {}

async function readToken(spec: string): Promise<string> {
  if (spec === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').trim();
  }
  if (spec.startsWith('@')) return (await readFile(spec.slice(1), 'utf8')).trim();
  return spec;
}

/** Splits `https://host:port/p?q` (or `/p?q` with a Host header) into the Host header and raw target. */
function splitUrl(
  url: string,
  hostHeader: string | undefined,
): { hostHeader: string; target: string } | string {
  const m = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(url);
  if (m) return { hostHeader: m[2] as string, target: m[3] === '' ? '/' : (m[3] as string) };
  if (url.startsWith('/')) return { hostHeader: hostHeader ?? 'localhost', target: url };
  return `URL must be absolute (https://host/path) or a path starting with "/": ${url}`;
}

function fakeContext(
  args: RequestArgs,
  host: string,
  hostHeader: string,
  path: string,
  query: string,
  route: CompiledRoute | undefined,
): RequestContext {
  const headers: Record<string, string> = { host: hostHeader };
  for (const [k, v] of args.headers) headers[k] = k in headers && k !== 'host' ? `${headers[k]}, ${v}` : v;
  const rawHeaders = Object.entries(headers).flat();
  const req = {
    method: args.method,
    url: `${path}${query}`,
    headers,
    rawHeaders,
    socket: { remoteAddress: args.clientIp },
  };
  return {
    id: 'explain',
    req,
    res: undefined,
    start: performance.now(),
    peer: args.clientIp,
    clientIp: args.clientIp,
    peerTrusted: false,
    scheme: args.url.toLowerCase().startsWith('https:') ? 'https' : 'http',
    host,
    hostHeader,
    method: args.method,
    path,
    query,
    route,
    principal: undefined,
    inject: new Map(),
    drop: new Set(),
    reasons: [],
    rule: undefined,
    responseHeaders: new Map(),
    upstreamStatus: undefined,
    upstreamStart: undefined,
    upstreamEnd: undefined,
    extra: {},
  } as unknown as RequestContext;
}

/** Runs the route's authenticators (API keys, bearer through its authenticator…) on the synthetic request. */
async function authenticate(
  ctx: RequestContext,
  route: CompiledRoute,
  checks: TraceEntry[],
): Promise<Principal | GatehouseError | undefined> {
  for (const a of route.authenticators) {
    try {
      const r = await a.authenticate(ctx);
      if (r.kind === 'ok') {
        checks.push({
          check: `authenticator ${a.id}`,
          pass: true,
          detail: `verified ${r.principal.subject}`,
        });
        return r.principal;
      }
      checks.push({
        check: `authenticator ${a.id}`,
        pass: false,
        detail: 'no credential of this kind in the request',
      });
    } catch (e) {
      const err = isGatehouseError(e)
        ? e
        : new GatehouseError('GH_INTERNAL', String((e as Error)?.message ?? e));
      checks.push({
        check: `authenticator ${a.id}`,
        pass: false,
        detail: `${err.code}${err.detail ? `: ${err.detail}` : ''}`,
      });
      return err;
    }
  }
  return undefined;
}

/**
 * Replays one request through normalisation, routing, authentication (every token or session
 * check) and the route's rules in explain mode, exactly as the proxy decides.
 */
export async function explainRequest(args: RequestArgs, state: RuntimeState): Promise<ExplainReport> {
  const userHost = args.headers.find(([k]) => k === 'host')?.[1];
  const split = splitUrl(args.url, userHost);
  if (typeof split === 'string') throw new UsageError(split);
  const report: ExplainReport = {
    request: { method: args.method, url: args.url, client_ip: args.clientIp },
    authentication: { checks: [] },
    rules: [],
  };
  const finish = (
    allow: boolean,
    status: number,
    reasons: readonly string[],
    code?: string,
    rule?: string,
  ) => {
    report.decision = { allow, status, code, reasons: [...reasons], rule };
    return report;
  };
  let path: string;
  let query: string;
  try {
    ({ path, query } = normalizeTarget(split.target, split.hostHeader));
  } catch (e) {
    if (!isGatehouseError(e)) throw e;
    report.route = { matched: false, error: e.code, detail: e.detail };
    return finish(false, e.status, e.reasons, e.code);
  }
  const host = hostOnly(split.hostHeader);
  report.request.host = host;
  report.request.path = path;
  const m = state.router.match(host, path, args.method);
  if ('error' in m) {
    report.route = {
      matched: false,
      error: m.error,
      detail: 'detail' in m ? m.detail : routeMissDetail(m.error, args.method, host, path),
    };
    return finish(
      false,
      m.error === 'GH_METHOD_NOT_ALLOWED' ? 405 : m.error === 'GH_ROUTE_NOT_FOUND' ? 404 : 400,
      [m.error],
      m.error,
    );
  }
  const route = m.route;
  report.route = {
    matched: true,
    name: route.name,
    key_path: route.keyPath,
    public: route.public,
    authenticators: route.authenticators.map((a) => a.id),
  };
  if (route.caseInsensitive) {
    try {
      checkIisSegments(path);
    } catch (e) {
      if (!isGatehouseError(e)) throw e;
      return finish(false, e.status, e.reasons, e.code);
    }
  }
  const ctx = fakeContext(args, host, split.hostHeader, path, query, route);
  let principal: Principal | undefined;
  if (!route.public) {
    const checks = report.authentication.checks;
    let result: Principal | GatehouseError | undefined;
    const token = args.token === undefined ? undefined : await readToken(args.token);
    const registry = state.services.get('providers') as ProviderRegistry | undefined;
    const sessionRt = state.services.get('session') as SessionRuntime | undefined;
    const acceptsSession = route.authenticators.some((a) => a.id === 'session');
    if (args.session !== undefined && sessionRt === undefined && 'sessionId' in args.session)
      throw new UsageError('--session-id: the configuration has no `session` section');
    if (args.session !== undefined && sessionRt !== undefined && !acceptsSession)
      checks.push({
        check: 'session',
        pass: false,
        detail: `route ${route.name} does not accept sessions (auth: ${route.authenticators.map((a) => a.id).join(', ')})`,
      });
    if (args.session !== undefined && 'cookie' in args.session)
      (ctx.req.headers as Record<string, string>)['cookie'] = args.session.cookie;
    if (args.session !== undefined && sessionRt !== undefined && acceptsSession) {
      const store = openSessionStore(sessionRt);
      try {
        const r = await explainSession(sessionRt, store, args.session);
        checks.push(...r.checks);
        if (r.unknown) ctx.reasons.push('session.unknown');
        result = r.error ?? r.principal;
      } finally {
        await store.close();
      }
    } else if (
      token !== undefined &&
      registry !== undefined &&
      route.authenticators.some((a) => a.id.startsWith('bearer'))
    ) {
      const r = await explainToken(registry, token, { providers: route.config.providers });
      checks.push(...r.checks);
      result = r.error ?? r.principal;
    } else {
      if (token !== undefined)
        (ctx.req.headers as Record<string, string>)['authorization'] = `Bearer ${token}`;
      result = await authenticate(ctx, route, checks);
    }
    if (result instanceof GatehouseError) {
      report.authentication.error = { code: result.code, status: result.status, detail: result.detail };
      const done = finish(false, result.status, result.reasons, result.code);
      const told = publicReasonOfError(result);
      if (told !== undefined && done.decision)
        done.decision.public_reason = { code: told.code, text: told.text };
      return done;
    }
    principal = result;
    if (principal === undefined)
      checks.push({
        check: 'credential',
        pass: false,
        detail: 'the request carries no credential the route accepts',
      });
  }
  ctx.principal = principal;
  if (principal) report.authentication.principal = principal;
  const decision: Decision = route.authorizer.authorize(ctx, principal, true);
  report.rules = [...(decision.trace ?? [])];
  if (decision.allow) return finish(true, 200, decision.reasons, undefined, decision.rule);
  const err = denyError(decision, ctx);
  report.decision = {
    allow: false,
    status: err.status,
    code: err.code,
    reasons: [...decision.reasons],
    rule: decision.rule,
    www_authenticate: err.headers?.['WWW-Authenticate'],
    public_reason: err.publicReason && { code: err.publicReason.code, text: err.publicReason.text },
  };
  return report;
}

function routeMissDetail(code: string, method: string, host: string, path: string): string {
  return code === 'GH_METHOD_NOT_ALLOWED'
    ? `a route matches ${host}${path} but not the method ${method}`
    : `no route matches host "${host}" and path "${path}"`;
}
