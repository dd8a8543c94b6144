import type { RequestContext } from '../pipeline/context.js';
import type { Decision, TraceEntry } from '../pipeline/decision.js';
import type { Feature } from '../pipeline/feature.js';
import type { Authorizer } from '../pipeline/stages.js';
import type { AuthzGlobals, AuthzRoute } from './schema.js';
import {
  authenticatedPolicy,
  compilePolicy,
  decide,
  explainDecision,
  type CompiledPolicy,
} from './policy.js';

/** `cctx.services` key of the compiled named policies (`Map<string, CompiledPolicy>`). */
export const POLICIES_SERVICE = 'authz.policies';
const TRACE_SERVICE = 'authz.traceAll';

const PUBLIC: Decision = Object.freeze({ allow: true, reasons: Object.freeze(['route.public']) });
const PUBLIC_EXPLAINED: Decision = Object.freeze({
  ...PUBLIC,
  trace: Object.freeze([{ check: 'route public (auth: none)', pass: true, detail: 'allow: route.public' }]),
});

/** Appends an authoriser trace to `ctx.extra.trace` (read by the debug-level audit event). */
function appendTrace(ctx: RequestContext, trace: readonly TraceEntry[] | undefined): void {
  if (trace === undefined || ctx.extra === undefined) return;
  const prev = ctx.extra['trace'];
  if (Array.isArray(prev)) prev.push(...trace);
  else ctx.extra['trace'] = [...trace];
}

/** The authoriser of `auth: none` routes without rules: always allows with `route.public`. */
export const publicAuthorizer: Authorizer = {
  id: 'authz.public',
  allowsAll: true,
  authorize(ctx, _principal, explain) {
    if (!explain) return PUBLIC;
    appendTrace(ctx, PUBLIC_EXPLAINED.trace);
    return PUBLIC_EXPLAINED;
  },
};

/**
 * An authoriser over compiled policies; all must allow. Explain mode (asked per call, or
 * `traceAll` when the audit level is `debug`) records the trace in the decision and in
 * `ctx.extra.trace`.
 */
export function policyAuthorizer(policies: readonly CompiledPolicy[], traceAll = false): Authorizer {
  return {
    id: `authz:${policies.map((p) => p.name).join(',')}`,
    authorize(ctx, principal, explain) {
      if (!explain && !traceAll) return decide(policies, principal, ctx);
      const d = explainDecision(policies, principal, ctx);
      appendTrace(ctx, d.trace);
      return d;
    },
  };
}

function isPublic(route: AuthzRoute): boolean {
  return (
    route.auth === 'none' ||
    (Array.isArray(route.auth) && route.auth.length === 1 && route.auth[0] === 'none')
  );
}

/**
 * The authz feature. Named policies are compiled once in `compileGlobal`; each route gets an
 * authoriser over its `policy` list (all must allow), its inline `rules`, or `allow:
 * authenticated`. A route with an authenticator must say which (deny by default, no silent
 * "any valid token" routes); `auth: none` routes allow everyone unless they carry rules, which
 * then test request facts only (identity criteria draw a warning: they can never hold).
 */
export const authzFeature: Feature<AuthzGlobals, AuthzRoute> = {
  id: 'authz',

  compileGlobal(cctx) {
    const compiled = new Map<string, CompiledPolicy>();
    for (const [name, pol] of Object.entries(cctx.config.policies ?? {})) {
      try {
        compiled.set(name, compilePolicy(name, pol.rules));
      } catch (e) {
        cctx.issue(`policies.${name}`, (e as Error).message);
      }
    }
    cctx.services.set(POLICIES_SERVICE, compiled);
    const audit = cctx.services.get('audit') as { readonly debug?: boolean } | undefined;
    cctx.services.set(TRACE_SERVICE, audit?.debug === true);
  },

  compileRoute(route, keyPath, cctx, stages) {
    const named =
      (cctx.services.get(POLICIES_SERVICE) as Map<string, CompiledPolicy> | undefined) ?? new Map();
    const traceAll = cctx.services.get(TRACE_SERVICE) === true;
    const pub = isPublic(route);
    if (route.allow !== undefined && (route.policy !== undefined || route.rules !== undefined)) {
      cctx.issue(
        `${keyPath}.allow`,
        '"allow: authenticated" cannot be combined with "policy" or "rules": pick one',
      );
      return;
    }
    if (route.allow !== undefined) {
      if (pub)
        cctx.issue(`${keyPath}.allow`, '"allow: authenticated" can never hold on a route with "auth: none"');
      else stages.authorizer = policyAuthorizer([authenticatedPolicy()], traceAll);
      return;
    }
    const policies: CompiledPolicy[] = [];
    if (route.policy !== undefined) {
      const refs = typeof route.policy === 'string' ? [route.policy] : route.policy;
      refs.forEach((ref, i) => {
        const pol = named.get(ref);
        const at = typeof route.policy === 'string' ? `${keyPath}.policy` : `${keyPath}.policy[${i}]`;
        if (pol === undefined) {
          const known = [...named.keys()];
          cctx.issue(
            at,
            `unknown policy "${ref}" (defined in "policies": ${known.length ? known.join(', ') : 'none'})`,
          );
        } else policies.push(pol);
      });
    }
    if (route.rules !== undefined) {
      try {
        policies.push(compilePolicy(route.name ?? keyPath, route.rules));
      } catch (e) {
        cctx.issue(`${keyPath}.rules`, (e as Error).message);
      }
    }
    if (pub) {
      if (policies.some((p) => p.identity)) {
        cctx.issue(
          route.rules !== undefined ? `${keyPath}.rules` : `${keyPath}.policy`,
          'these rules test the identity, but "auth: none" never verifies one: identity criteria will never hold',
          'warning',
        );
      }
      stages.authorizer = policies.length === 0 ? publicAuthorizer : policyAuthorizer(policies, traceAll);
      return;
    }
    if (route.policy === undefined && route.rules === undefined) {
      cctx.issue(
        `${keyPath}.policy`,
        'a route with an authenticator needs "policy", "rules" or "allow: authenticated" (Gatehouse denies by default)',
      );
      return;
    }
    if (policies.length > 0) stages.authorizer = policyAuthorizer(policies, traceAll);
  },
};
