import { GatehouseError } from '../errors/index.js';
import type { CompileContext, Feature } from '../pipeline/feature.js';
import type { RouteStages } from '../pipeline/route.js';
import type { InternalEndpoint } from '../pipeline/stages.js';
import { RESERVED_ASSERTION_CLAIMS, RouteAssertion } from './assertion.js';
import { HEADER_NAME, valueEncoding } from './encode.js';
import {
  CLIENT_CERT_HEADER_NAMES,
  easyAuthHeaderNames,
  identityMutator,
  type CompiledHeader,
} from './inject.js';
import { assertionKeyOptions } from './export.js';
import { AssertionKeySet, type KeySetOptions } from './keyset.js';
import {
  PRM_PATH,
  protectedResourceEndpoint,
  registerResourceRoute,
  resourcePath,
  type ProtectedResource,
} from './prm.js';
import {
  HEADER_PRESETS,
  type IdentityGlobals,
  type IdentityRoute,
  type RouteIdentityConfig,
} from './schema.js';
import { normalizeHeaderName } from './strip.js';
import { compileTemplate } from './template.js';

/** Path of the published assertion verification keys. */
export const JWKS_PATH = '/.well-known/gatehouse/jwks.json';

/** Service name under which the assertion key set is shared (`cctx.services`). */
export const KEYSET_SERVICE = 'identity.assertionKeys';

/** Headers an identity template may never set: framing, hop-by-hop, credentials, forwarding chain. */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'authorization',
  'cookie',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
]);

interface GlobalState {
  readonly strip: ReadonlySet<string>;
  readonly keys: AssertionKeySet | undefined;
  readonly issuer: string | undefined;
  readonly externalOrigin: string | undefined;
}

const states = new WeakMap<CompileContext, GlobalState>();

const authList = (route: IdentityRoute): string[] =>
  typeof route.auth === 'string' ? [route.auth] : [...route.auth];

/** Names (as configured) of every header a route's identity config injects. */
export function routeHeaderNames(idc: RouteIdentityConfig | undefined): string[] {
  if (!idc) return [];
  const names: string[] = [];
  if (idc.headers !== undefined)
    names.push(...Object.keys(typeof idc.headers === 'string' ? HEADER_PRESETS[idc.headers] : idc.headers));
  if (idc.easy_auth) names.push(...easyAuthHeaderNames(idc.easy_auth.provider_name, true));
  if (idc.assertion) names.push(idc.assertion.header);
  if (idc.client_cert_headers) names.push(...CLIENT_CERT_HEADER_NAMES);
  return names;
}

/** Issuers of the providers a bearer route accepts (its `providers` list, default all). */
function providerIssuers(cctx: CompileContext<IdentityGlobals>, route: IdentityRoute): string[] {
  const all = (cctx.config.providers ?? {}) as Record<string, { issuer?: unknown }>;
  const names = route.providers ?? Object.keys(all);
  const out: string[] = [];
  for (const n of names) {
    const iss = Object.hasOwn(all, n) ? all[n]?.issuer : undefined;
    if (typeof iss === 'string' && !out.includes(iss)) out.push(iss);
  }
  return out;
}

function jwksEndpoint(keys: AssertionKeySet): InternalEndpoint {
  return {
    path: JWKS_PATH,
    handle(ctx) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        throw new GatehouseError('GH_METHOD_NOT_ALLOWED', 'JWKS is read-only', {
          headers: { allow: 'GET, HEAD' },
        });
      }
      const body = keys.jwksJson();
      ctx.res.writeHead(200, {
        'content-type': 'application/jwk-set+json',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'public, max-age=60',
      });
      ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
    },
  };
}

function compileGlobal(cctx: CompileContext<IdentityGlobals>): GlobalState {
  const cfg = cctx.config.identity;
  const routes = cctx.config.routes;
  const ext = cctx.config.server.external_url;
  const externalOrigin = ext === undefined ? undefined : new URL(ext).origin;

  const strip = new Set<string>();
  cfg?.strip_headers.forEach((n) => strip.add(normalizeHeaderName(n)));
  for (const r of routes) for (const n of routeHeaderNames(r.identity)) strip.add(normalizeHeaderName(n));

  let keys: AssertionKeySet | undefined;
  let issuer: string | undefined;
  const firstAssertionRoute = routes.findIndex((r) => r.identity?.assertion !== undefined);
  const ac = cfg?.assertion;
  if (ac || firstAssertionRoute >= 0) {
    issuer = ac?.issuer ?? ext;
    if (issuer === undefined) {
      cctx.issue(
        ac ? 'identity.assertion.issuer' : `routes[${firstAssertionRoute}].identity.assertion`,
        'the signed assertion needs an issuer: set identity.assertion.issuer or server.external_url',
      );
    }
    if (ac?.key_file !== undefined && ac.key_dir !== undefined) {
      cctx.issue(
        'identity.assertion.key_dir',
        'set either key_file (manual keys) or key_dir (managed keys), not both',
      );
    }
    const keyPath = ac?.key_file !== undefined ? 'identity.assertion.key_file' : 'identity.assertion.key_dir';
    try {
      const opts = assertionKeyOptions(cctx.config, cctx.baseDir) as Omit<KeySetOptions, 'dryRun'>;
      keys = new AssertionKeySet({ ...opts, dryRun: cctx.dryRun });
    } catch (e) {
      cctx.issue(keyPath, `cannot load the assertion signing key: ${(e as Error).message}`);
    }
    if (keys) {
      const ks = keys;
      cctx.services.set(KEYSET_SERVICE, ks);
      cctx.registerEndpoint(jwksEndpoint(ks));
      if (ac?.key_file === undefined && !cctx.dryRun) {
        let timer: NodeJS.Timeout | undefined;
        cctx.onStart(async () => {
          timer = setInterval(() => {
            try {
              ks.refresh();
            } catch (e) {
              cctx.logger.error({ err: e }, 'assertion key refresh failed; keeping the current keys');
            }
          }, 30_000);
          timer.unref();
        });
        cctx.onClose(() => clearInterval(timer));
      }
    }
  }

  const resources: ProtectedResource[] = [];
  routes.forEach((r, i) => {
    if (!authList(r).includes('bearer')) return;
    const rm = r.identity?.resource_metadata;
    const servers = rm?.authorization_servers ?? providerIssuers(cctx, r);
    if (servers.length === 0) {
      cctx.issue(
        `routes[${i}].identity.resource_metadata.authorization_servers`,
        'no provider issuer found for the RFC 9728 metadata of this bearer route; list the authorization servers here',
        'warning',
      );
    }
    const host = r.match.host;
    resources.push({
      path: resourcePath(r.match.path),
      hosts:
        host === undefined
          ? undefined
          : (typeof host === 'string' ? [host] : host).map((h) => h.toLowerCase()),
      authorizationServers: servers,
      scopes: rm?.scopes_supported ?? [],
      resourceName: rm?.resource_name,
    });
  });
  if (resources.length > 0) cctx.registerEndpoint(protectedResourceEndpoint(resources, externalOrigin));

  const state: GlobalState = { strip, keys, issuer, externalOrigin };
  states.set(cctx, state);
  return state;
}

function compileHeaders(
  idc: RouteIdentityConfig,
  keyPath: string,
  cctx: CompileContext<IdentityGlobals>,
): CompiledHeader[] {
  const out: CompiledHeader[] = [];
  if (idc.headers === undefined) return out;
  const preset = typeof idc.headers === 'string';
  const map: Record<string, string> = preset
    ? HEADER_PRESETS[idc.headers as keyof typeof HEADER_PRESETS]
    : (idc.headers as Record<string, string>);
  const enc = valueEncoding(idc.non_ascii);
  for (const [name, template] of Object.entries(map)) {
    const path = preset ? `${keyPath}.identity.headers` : `${keyPath}.identity.headers.${name}`;
    const t = compileTemplate(template, enc, idc.groups_separator);
    if (typeof t === 'string') cctx.issue(path, t);
    else out.push({ name, render: t });
  }
  return out;
}

/** Checks every injected name of a route: RFC 9110 token, reserved names, duplicates, `_`. */
function checkNames(idc: RouteIdentityConfig, keyPath: string, cctx: CompileContext<IdentityGlobals>): void {
  const seen = new Map<string, string>();
  const check = (name: string, path: string): void => {
    if (!HEADER_NAME.test(name)) {
      cctx.issue(
        path,
        `"${name}" is not a valid header name (RFC 9110 §5.1: letters, digits and !#$%&'*+-.^_\`|~)`,
      );
      return;
    }
    const norm = normalizeHeaderName(name);
    if (RESERVED_NAMES.has(norm))
      cctx.issue(
        path,
        `"${name}" cannot be set by an identity template (use forward_token for Authorization)`,
      );
    if (name.includes('_')) {
      cctx.issue(
        path,
        `"${name}" contains "_": nginx and other proxies drop such headers by default; prefer "${name.replaceAll('_', '-')}"`,
        'warning',
      );
    }
    const prev = seen.get(norm);
    if (prev !== undefined)
      cctx.issue(path, `"${name}" is also injected as "${prev}" (names compare case- and _/- insensitively)`);
    seen.set(norm, name);
  };
  if (idc.headers !== undefined && typeof idc.headers !== 'string') {
    for (const n of Object.keys(idc.headers)) check(n, `${keyPath}.identity.headers.${n}`);
  } else if (idc.headers !== undefined) {
    for (const n of Object.keys(HEADER_PRESETS[idc.headers])) check(n, `${keyPath}.identity.headers`);
  }
  if (idc.easy_auth)
    for (const n of easyAuthHeaderNames(idc.easy_auth.provider_name, idc.easy_auth.include_tokens))
      check(n, `${keyPath}.identity.easy_auth`);
  if (idc.client_cert_headers)
    for (const n of CLIENT_CERT_HEADER_NAMES) check(n, `${keyPath}.identity.client_cert_headers`);
  if (idc.assertion) check(idc.assertion.header, `${keyPath}.identity.assertion.header`);
}

function compileRoute(
  route: IdentityRoute,
  keyPath: string,
  cctx: CompileContext<IdentityGlobals>,
  stages: RouteStages,
): void {
  const g = states.get(cctx) ?? compileGlobal(cctx);
  for (const n of g.strip) stages.stripNames.add(n);
  const auth = authList(route);
  if (auth.includes('bearer')) registerResourceRoute(route, g.externalOrigin);
  if (auth.includes('none')) {
    if (route.identity?.assertion || route.identity?.easy_auth || route.identity?.headers !== undefined) {
      cctx.issue(
        `${keyPath}.identity`,
        'a public route (auth: none) has no verified identity to forward; these settings have no effect',
        'warning',
      );
    }
    return;
  }
  const idc: RouteIdentityConfig = route.identity ?? {
    groups_separator: ',',
    non_ascii: 'percent',
    max_header_bytes: 8192,
    forward_token: 'auto',
    client_cert_headers: false,
  };
  checkNames(idc, keyPath, cctx);
  if (idc.forward_token === 'session' && !auth.includes('session')) {
    cctx.issue(
      `${keyPath}.identity.forward_token`,
      'forward_token: session needs the session authenticator on this route',
      'warning',
    );
  }
  let assertion: { header: string; signer: RouteAssertion } | undefined;
  const dflt = cctx.config.identity?.assertion?.algorithm ?? 'ES256';
  if (idc.assertion?.alg !== undefined && g.keys && !g.keys.algorithms().includes(idc.assertion.alg)) {
    cctx.issue(
      `${keyPath}.identity.assertion.alg`,
      `${idc.assertion.alg} needs its own signing key, but identity.assertion.key_file signs ${dflt} only: use identity.assertion.key_dir (managed keys, one per algorithm), or set identity.assertion.algorithm: ${idc.assertion.alg}`,
    );
  } else if (idc.assertion && g.keys && g.issuer !== undefined) {
    const a = idc.assertion;
    for (const c of a.claims) {
      if (RESERVED_ASSERTION_CLAIMS.has(c))
        cctx.issue(`${keyPath}.identity.assertion.claims`, `"${c}" is set by Gatehouse and cannot be copied`);
    }
    const filter = (f: 'all' | 'none' | string[]): 'all' | ReadonlySet<string> =>
      f === 'all' ? 'all' : new Set(f === 'none' ? [] : f);
    assertion = {
      header: a.header,
      signer: new RouteAssertion(g.keys, g.issuer, {
        audience: a.audience,
        groups: filter(a.groups),
        roles: filter(a.roles),
        claims: a.claims,
        ttlMs: a.ttl,
        alg: a.alg ?? cctx.config.identity?.assertion?.algorithm ?? 'ES256',
      }),
    };
  }
  stages.mutators.push(
    identityMutator({
      headers: compileHeaders(idc, keyPath, cctx),
      forwardToken: idc.forward_token,
      maxBytes: idc.max_header_bytes,
      encoding: valueEncoding(idc.non_ascii),
      easyAuth: idc.easy_auth && {
        provider: idc.easy_auth.provider_name,
        tokenPrefix: `X-MS-TOKEN-${idc.easy_auth.provider_name.toUpperCase()}-`,
        includeTokens: idc.easy_auth.include_tokens,
      },
      clientCertHeaders: idc.client_cert_headers,
      assertion,
    }),
  );
}

/**
 * The identity feature: strips forged identity headers on every route, injects the verified
 * identity (templated headers, signed assertion, Easy Auth, client certificate), decides what
 * happens to the caller's Authorization header, and publishes the assertion JWKS and the
 * RFC 9728 protected-resource metadata.
 */
export const identityFeature: Feature<IdentityGlobals, IdentityRoute> = {
  id: 'identity',
  compileGlobal(cctx) {
    compileGlobal(cctx);
  },
  compileRoute,
};

export { PRM_PATH };
