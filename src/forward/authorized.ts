import { denyError } from '../authz/deny.js';
import { GatehouseError } from '../errors/index.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Principal } from '../pipeline/principal.js';
import type { CompiledRoute } from '../pipeline/route.js';

/**
 * The stages of a matched route after authentication, for a principal the decision cache
 * already knows: authorise → limit → mutate, exactly as in `runStages` (src/server/stages.ts).
 * Resolves `false` (forward / answer 200); throws GatehouseError to deny.
 */
export async function runAuthenticated(ctx: RequestContext, principal: Principal): Promise<boolean> {
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
    if (!r.allowed) throw r.error ?? new GatehouseError('GH_INTERNAL', `limiter ${l.id} rejected without an error`);
  }
  for (const m of route.mutators) await m.mutate(ctx);
  return false;
}
