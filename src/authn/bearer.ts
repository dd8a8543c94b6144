import type { RequestContext } from '../pipeline/context.js';
import type { Principal } from '../pipeline/principal.js';
import { AUTHN_NONE, type AuthnResult, type Authenticator } from '../pipeline/stages.js';
import { BEARER_CHALLENGE } from './errors.js';
import type { ProviderRegistry } from './providers.js';
import type { AuthenticatorFactory } from './factory.js';
import { enforceQueryGuard, queryGuardFor } from './query-guard.js';
import { bearerCandidate, compileSources, extractToken } from './sources.js';
import { tokenHash } from './verifier.js';

const ok = (principal: Principal): AuthnResult => ({ kind: 'ok', principal });

/**
 * `auth: bearer`: a JWT (verified locally against the issuing provider's keys) or an opaque
 * token (introspected), from the route's token sources. Built once per route. Also refuses
 * OAuth tokens in the query string that the route does not read from there (`query-guard.ts`).
 */
export const bearerFactory: AuthenticatorFactory = (route, keyPath, cctx) => {
  const registry = cctx.services.get('providers') as ProviderRegistry | undefined;
  if (!registry || registry.providers.size === 0) {
    cctx.issue(`${keyPath}.auth`, 'auth "bearer" needs at least one identity provider under `providers`');
    return undefined;
  }
  const names = route.providers ?? registry.names;
  let bad = false;
  names.forEach((n, j) => {
    if (!registry.providers.has(n)) {
      bad = true;
      cctx.issue(
        `${keyPath}.providers[${j}]`,
        `unknown provider "${n}"; expected one of ${registry.names.join(', ')}`,
      );
    }
  });
  if (bad) return undefined;
  const verifier = registry.verifierFor(names);
  const seen = new Map<string, string>();
  for (const p of verifier.providers) {
    const other = seen.get(p.issuer);
    if (other !== undefined) {
      cctx.issue(
        `${keyPath}.providers`,
        `providers "${other}" and "${p.name}" share the issuer ${p.issuer}; a route can accept only one provider per issuer`,
      );
    }
    seen.set(p.issuer, p.name);
  }
  const introspecting = verifier.providers.filter((p) => p.introspector !== undefined);
  if (introspecting.length > 1) {
    cctx.issue(
      `${keyPath}.providers`,
      `providers ${introspecting.map((p) => `"${p.name}"`).join(', ')} all introspect opaque tokens; a route may accept at most one (an opaque token must never be sent to another IdP)`,
    );
  }
  const sources = compileSources(route.token);
  const guard = queryGuardFor(route, cctx);
  const noCache = !sources.cache;
  const opts = noCache ? { noCache } : undefined;
  const authenticator: Authenticator = {
    id: 'bearer',
    wwwAuthenticate: BEARER_CHALLENGE,
    authenticate(ctx: RequestContext) {
      // RFC 6750 §5.3: before the token is taken out of the query and before any other check.
      if (ctx.query.length > 1) enforceQueryGuard(guard, ctx, true);
      // A token verified before: one hash and a cache lookup, no second pass over the token.
      const candidate = noCache ? undefined : bearerCandidate(ctx, sources);
      const hash = candidate === undefined ? undefined : tokenHash(candidate);
      if (hash !== undefined) {
        const known = verifier.cached(candidate as string, hash);
        if (known !== undefined) return ok(known);
      }
      const token = extractToken(ctx, sources);
      if (token === undefined) return AUTHN_NONE;
      const r = verifier.verify(token, opts, ctx.req.socket, token === candidate ? hash : undefined);
      return r instanceof Promise ? r.then(ok) : ok(r);
    },
  };
  return Object.freeze(authenticator);
};
