import type { CompileContext } from '../pipeline/feature.js';
import type { AuthnGlobals, AuthnRoute } from './schema.js';
import type { RequestContext } from '../pipeline/context.js';
import { AUTHN_NONE, type Authenticator } from '../pipeline/stages.js';
import { tokenInQueryError } from './errors.js';

/**
 * Query parameters that carry OAuth tokens and never belong in a request URL to an API:
 * `access_token` (RFC 6750 §2.3, "SHOULD NOT be used"), `id_token` and `refresh_token` (token
 * response members, RFC 6749 §5.1 and OpenID Connect Core §3.1.3.3). Generic names such as
 * `token`, `code` or `key` are deliberately absent: applications use them for password resets,
 * invitations, pagination cursors and OAuth authorization codes.
 */
export const QUERY_TOKEN_NAMES: readonly string[] = Object.freeze([
  'access_token',
  'id_token',
  'refresh_token',
]);

/** Returns the offending parameter name as sent, or undefined. Compiled once per route. */
export type QueryGuard = (query: string) => string | undefined;

/** Decodes the %XX escapes that are valid and leaves the rest, as lenient servers (PHP) do. */
function lenientDecode(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * The name an application framework may read a parameter as: percent-decoded, `+` as space,
 * lower-cased (ASP.NET Core query keys are case-insensitive), a `[…]` suffix removed and `.`
 * or space as `_` (PHP turns `access.token` and `access_token[]` into `access_token`).
 */
function canonicalName(raw: string): string {
  return lenientDecode(raw.replace(/\+/g, ' ')).toLowerCase().replace(/\[.*$/s, '').replace(/[ .]/g, '_');
}

function strictDecode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/_/g, '[_. +]');

/**
 * Compiles the query-token check of a route. `rawNames` are parameters the route reads its
 * bearer token from (`token.query`, matched byte for byte as `sources.ts` does), `decodedNames`
 * those matched after percent-decoding (`api_keys.query_param`, exempt when it is a token name).
 * Any other parameter whose canonical name is a token name — or another spelling of the route's
 * `token.query`, which `sources.ts` would not take out of the URL — is refused.
 */
export function compileQueryGuard(rawNames: readonly string[], decodedNames: readonly string[]): QueryGuard {
  const guarded = new Set([...QUERY_TOKEN_NAMES, ...rawNames.map(canonicalName)]);
  const raw = new Set(rawNames);
  const decoded = new Set(decodedNames);
  // Cheap pre-check: a query that cannot name a guarded parameter in any spelling is skipped.
  const hint = new RegExp(
    ['token', '%', ...rawNames.filter((n) => !/token/i.test(n)).map(escapeRe)].join('|'),
    'i',
  );
  return (query) => {
    if (query.length < 2 || !hint.test(query)) return undefined;
    for (const part of query.slice(1).split(/[&;]/)) {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      if (name === '' || raw.has(name)) continue;
      if (!guarded.has(canonicalName(name))) continue;
      if (decoded.size > 0) {
        const d = strictDecode(name);
        if (d !== undefined && decoded.has(d)) continue;
      }
      return name;
    }
    return undefined;
  };
}

/** The query guard for `route`: its own `token.query` and the `api_keys.query_param` it accepts. */
export function queryGuardFor(route: AuthnRoute, cctx: CompileContext<AuthnGlobals>): QueryGuard {
  const auth = Array.isArray(route.auth) ? route.auth : [route.auth];
  const rawNames = auth.includes('bearer') && route.token?.query !== undefined ? [route.token.query] : [];
  const apiKeyParam = cctx.config?.api_keys?.query_param;
  const decodedNames = auth.includes('apikey') && apiKeyParam !== undefined ? [apiKeyParam] : [];
  return compileQueryGuard(rawNames, decodedNames);
}

/** Throws 400 `GH_TOKEN_IN_QUERY` when the request's query string carries a token it must not. */
export function enforceQueryGuard(guard: QueryGuard, ctx: RequestContext, bearer: boolean): void {
  const bad = guard(ctx.query);
  if (bad !== undefined) throw tokenInQueryError(bad, bearer);
}

/**
 * A first authenticator for authenticated routes whose first authenticator is not `bearer`
 * (which runs the guard itself, saving a call on the hot path): finds no credential, or refuses
 * the request before any other authenticator can let it through.
 */
export function queryGuardAuthenticator(guard: QueryGuard, bearer: boolean): Authenticator {
  return Object.freeze({
    id: 'query-token-guard',
    authenticate(ctx: RequestContext) {
      if (ctx.query.length > 1) enforceQueryGuard(guard, ctx, bearer);
      return AUTHN_NONE;
    },
  });
}
