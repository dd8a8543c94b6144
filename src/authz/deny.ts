import { GatehouseError } from '../errors/index.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Decision } from '../pipeline/decision.js';
import { publicReasonOf } from './public-reason.js';

const DEFAULT_CHALLENGE = 'Bearer realm="gatehouse"';
const SCOPE_PREFIX = 'scope.missing:';

/**
 * Turns a deny {@link Decision} into the error the handler renders:
 * - no verified identity on a protected route → 401 `GH_UNAUTHENTICATED` with the route's
 *   challenges in `WWW-Authenticate` (RFC 6750 §3, no `error` attribute: no token was sent);
 * - a bearer token that only lacked scopes → 403 `GH_INSUFFICIENT_SCOPE` with
 *   `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (RFC 6750 §3.1);
 * - otherwise 403 `GH_ACCESS_DENIED`.
 * The decision's reasons travel with the error to the audit event; only the client-safe
 * {@link publicReasonOf} (a reason code and words naming what the rules require) reaches the client.
 */
export function denyError(
  decision: Decision,
  ctx: Pick<RequestContext, 'principal' | 'route'> & { readonly reasons?: readonly string[] },
): GatehouseError {
  const detail = `denied${decision.rule ? ` by ${decision.rule}` : ''}: ${decision.reasons.join(', ')}`;
  const p = ctx.principal;
  const publicReason = publicReasonOf(decision, p, ctx.reasons);
  if (p === undefined && ctx.route?.public !== true) {
    const challenges = (ctx.route?.authenticators ?? [])
      .map((a) => a.wwwAuthenticate)
      .filter((c): c is string => !!c);
    return new GatehouseError('GH_UNAUTHENTICATED', detail, {
      headers: {
        'WWW-Authenticate': challenges.length > 0 ? [...new Set(challenges)].join(', ') : DEFAULT_CHALLENGE,
      },
      reasons: decision.reasons,
      publicReason,
    });
  }
  if (decision.insufficientScope && p !== undefined && (p.method === 'jwt' || p.method === 'introspection')) {
    const scopes = decision.reasons
      .filter((r) => r.startsWith(SCOPE_PREFIX))
      .map((r) => r.slice(SCOPE_PREFIX.length));
    return new GatehouseError('GH_INSUFFICIENT_SCOPE', detail, {
      headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"` },
      reasons: decision.reasons,
      publicReason,
    });
  }
  return new GatehouseError('GH_ACCESS_DENIED', detail, { reasons: decision.reasons, publicReason });
}
