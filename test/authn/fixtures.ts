import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { providersSchema, tokenSourcesSchema, type AuthnGlobals } from '../../src/authn/schema.js';
import { compileProviders, type ProviderRegistry } from '../../src/authn/providers.js';
import { bearerFactory } from '../../src/authn/bearer.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { Authenticator, AuthnResult } from '../../src/pipeline/stages.js';
import type { CompileContext } from '../../src/pipeline/feature.js';
import type { RouteConfig } from '../../src/config/schema.js';
import type { Principal } from '../../src/pipeline/principal.js';
import { GatehouseError } from '../../src/errors/index.js';

/** A pino logger whose lines are kept in `lines`. */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n'))
        if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** Compiles a `providers` section (raw YAML-like object) into a registry; throws on schema errors. */
export function registryFor(
  raw: Record<string, unknown>,
  opts: { now?: () => number; logger?: Logger; cacheEntries?: number } = {},
): ProviderRegistry {
  const cfg = providersSchema.parse(raw);
  return compileProviders(
    cfg,
    { logger: opts.logger ?? pino({ level: 'silent' }) },
    { now: opts.now, cacheEntries: opts.cacheEntries },
  );
}

/** A minimal RequestContext carrying raw headers and a query string. */
export function fakeCtx(headers: Array<[string, string]> = [], query = ''): RequestContext {
  return {
    id: 'req-1',
    req: { rawHeaders: headers.flat(), headers: {} },
    query,
    path: '/',
    method: 'GET',
    extra: {},
    reasons: [],
  } as unknown as RequestContext;
}

/** Builds the bearer authenticator for a route with `providers`/`token` fields against `registry`. */
export function bearerFor(
  registry: ProviderRegistry,
  route: { providers?: string[]; token?: Record<string, unknown> } = {},
): Authenticator {
  const issues: string[] = [];
  const cctx = {
    services: new Map<string, unknown>([['providers', registry]]),
    issue: (path: string, message: string) => issues.push(`${path}: ${message}`),
  } as unknown as CompileContext<AuthnGlobals>;
  const r = {
    auth: 'bearer',
    providers: route.providers,
    token: route.token ? tokenSourcesSchema.parse(route.token) : undefined,
  } as unknown as RouteConfig;
  const a = bearerFactory(r, 'routes[0]', cctx);
  if (!a) throw new Error(`bearer factory failed: ${issues.join('; ')}`);
  return a;
}

/** Outcome of one authentication, as a user would see it. */
export type Outcome =
  | { ok: true; principal: Principal }
  | { ok: false; none: true }
  | {
      ok: false;
      status: number;
      code: string;
      reasons: readonly string[];
      headers: Readonly<Record<string, string>> | undefined;
      detail: string | undefined;
    };

/** Runs an authenticator and turns the result or thrown GatehouseError into an {@link Outcome}. */
export async function run(a: Authenticator, headers: Array<[string, string]>, query = ''): Promise<Outcome> {
  try {
    const r: AuthnResult = await a.authenticate(fakeCtx(headers, query));
    return r.kind === 'ok' ? { ok: true, principal: r.principal } : { ok: false, none: true };
  } catch (e) {
    if (!(e instanceof GatehouseError)) throw e;
    return {
      ok: false,
      status: e.status,
      code: e.code,
      reasons: e.reasons,
      headers: e.headers,
      detail: e.detail,
    };
  }
}

/** Shorthand: `Authorization: Bearer <token>`. */
export const bearer = (token: string): Array<[string, string]> => [['Authorization', `Bearer ${token}`]];
