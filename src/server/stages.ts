import type { RequestContext } from '../pipeline/context.js';
import type { Principal } from '../pipeline/principal.js';
import type { CompiledRoute } from '../pipeline/route.js';
import { GatehouseError } from '../errors/index.js';
import { denyError } from '../authz/deny.js';

/**
 * Runs a matched route's stages: authenticate → authorise → limit → mutate. Resolves `true`
 * when a stage already answered the request (e.g. a login redirect), `false` to forward it.
 * Throws GatehouseError to deny. Shared by inline proxying and forward-auth.
 */
export async function runStages(ctx: RequestContext): Promise<boolean> {
  const route = ctx.route as CompiledRoute;
  let principal: Principal | undefined;
  for (const a of route.authenticators) {
    const r = await a.authenticate(ctx);
    if (r.kind === 'ok') {
      principal = r.principal;
      break;
    }
  }
  ctx.principal = principal;
  if (!principal && !route.public) {
    for (const a of route.authenticators) {
      if (a.challenge && (await a.challenge(ctx))) {
        ctx.reasons.push('authn.challenge');
        return true;
      }
    }
  }
  return runAuthorized(ctx, principal);
}

/**
 * The stages after authentication: authorise → limit → mutate. Forward-auth's decision cache
 * calls this directly for a principal it already knows. Resolves `false`; throws to deny.
 */
export async function runAuthorized(ctx: RequestContext, principal: Principal | undefined): Promise<boolean> {
  const route = ctx.route as CompiledRoute;
  ctx.principal = principal;
  const decision = route.authorizer.authorize(ctx, principal);
  ctx.rule = decision.rule;
  for (const r of decision.reasons) ctx.reasons.push(r);
  if (!decision.allow) throw denyError(decision, ctx);
  for (const l of route.limiters) {
    const r = await l.check(ctx);
    if (r.headers) for (const [k, v] of Object.entries(r.headers)) ctx.responseHeaders.set(k, v);
    if (r.reason) ctx.reasons.push(r.reason);
    if (!r.allowed)
      throw r.error ?? new GatehouseError('GH_INTERNAL', `limiter ${l.id} rejected without an error`);
  }
  for (const m of route.mutators) await m.mutate(ctx);
  return false;
}
