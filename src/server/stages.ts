import type { RequestContext } from '../pipeline/context.js';
import type { Principal } from '../pipeline/principal.js';
import type { CompiledRoute } from '../pipeline/route.js';
import type { Authenticator, AuthnResult, LimitResult, Limiter, Mutator } from '../pipeline/stages.js';
import { ambient, type RequestTrace } from '../pipeline/tracing.js';
import { GatehouseError } from '../errors/index.js';
import { denyError } from '../authz/deny.js';

/** `true`: a stage already answered (e.g. a login redirect); `false`: forward the request. */
export type StageOutcome = boolean | Promise<boolean>;

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

/**
 * Runs a matched route's stages: authenticate → authorise → limit → mutate. Throws (or rejects
 * with) GatehouseError to deny. Synchronous while every stage is — a cached token, an in-memory
 * limit — so the common request costs no Promise; the first stage that returns one continues
 * asynchronously from where it stood. Shared by inline proxying and forward-auth.
 */
export function runStages(ctx: RequestContext): StageOutcome {
  const auths = (ctx.route as CompiledRoute).authenticators;
  const t = ctx.tracing;
  if (t !== undefined) t.authnStart();
  for (let i = 0; i < auths.length; i++) {
    const r = t === undefined ? auths[i]!.authenticate(ctx) : tracedAuthenticate(auths[i]!, ctx, t);
    if (isThenable(r)) return authnAsync(ctx, i, r);
    if (r.kind === 'ok') return authenticated(ctx, r.principal);
  }
  return authenticated(ctx, undefined);
}

async function authnAsync(ctx: RequestContext, i: number, pending: Promise<AuthnResult>): Promise<boolean> {
  const auths = (ctx.route as CompiledRoute).authenticators;
  let r = await pending;
  const t = ctx.tracing;
  for (;;) {
    if (r.kind === 'ok') return authenticated(ctx, r.principal);
    if (++i >= auths.length) return authenticated(ctx, undefined);
    r = await (t === undefined ? auths[i]!.authenticate(ctx) : tracedAuthenticate(auths[i]!, ctx, t));
  }
}

/** Runs an authenticator with its request's trace as the ambient one (IdP calls become its children). */
function tracedAuthenticate(
  a: Authenticator,
  ctx: RequestContext,
  t: RequestTrace,
): AuthnResult | Promise<AuthnResult> {
  ambient.trace = t;
  try {
    return a.authenticate(ctx);
  } finally {
    ambient.trace = undefined;
  }
}

function authenticated(ctx: RequestContext, principal: Principal | undefined): StageOutcome {
  ctx.principal = principal;
  if (ctx.tracing !== undefined) ctx.tracing.authnEnd(principal);
  const route = ctx.route as CompiledRoute;
  if (!principal && !route.public && route.authenticators.some((a) => a.challenge !== undefined))
    return challengeThenAuthorize(ctx);
  return runAuthorized(ctx, principal);
}

/** No credential: an authenticator may answer (login redirect) before the 401 path. */
async function challengeThenAuthorize(ctx: RequestContext): Promise<boolean> {
  for (const a of (ctx.route as CompiledRoute).authenticators) {
    if (a.challenge && (await a.challenge(ctx))) {
      ctx.reasons.push('authn.challenge');
      return true;
    }
  }
  return runAuthorized(ctx, undefined);
}

/**
 * The stages after authentication: authorise → limit → mutate. Forward-auth's decision cache
 * calls this directly for a principal it already knows. `false` (or a Promise of it); throws to
 * deny.
 */
export function runAuthorized(ctx: RequestContext, principal: Principal | undefined): StageOutcome {
  const route = ctx.route as CompiledRoute;
  ctx.principal = principal;
  const t = ctx.tracing;
  const start = t === undefined ? 0 : performance.now();
  const decision = route.authorizer.authorize(ctx, principal);
  if (t !== undefined) t.authz(start, decision.allow, decision.rule, decision.reasons[0]);
  ctx.rule = decision.rule;
  for (const r of decision.reasons) ctx.reasons.push(r);
  if (!decision.allow) throw denyError(decision, ctx);
  return limitsFrom(ctx, route, 0);
}

function applyLimit(ctx: RequestContext, l: Limiter, r: LimitResult): void {
  if (r.headers) for (const [k, v] of Object.entries(r.headers)) ctx.responseHeaders.set(k, v);
  if (r.reason) ctx.reasons.push(r.reason);
  if (!r.allowed)
    throw r.error ?? new GatehouseError('GH_INTERNAL', `limiter ${l.id} rejected without an error`);
}

function limitsFrom(ctx: RequestContext, route: CompiledRoute, from: number): StageOutcome {
  const ls = route.limiters;
  for (let i = from; i < ls.length; i++) {
    const l = ls[i] as Limiter;
    const r = l.check(ctx);
    if (isThenable(r)) {
      const next = i + 1;
      return r.then((res) => {
        applyLimit(ctx, l, res);
        return limitsFrom(ctx, route, next);
      });
    }
    applyLimit(ctx, l, r);
  }
  return mutatorsFrom(ctx, route, 0);
}

function mutatorsFrom(ctx: RequestContext, route: CompiledRoute, from: number): StageOutcome {
  const ms = route.mutators;
  for (let i = from; i < ms.length; i++) {
    const r = (ms[i] as Mutator).mutate(ctx);
    if (isThenable(r)) {
      const next = i + 1;
      return r.then(() => mutatorsFrom(ctx, route, next));
    }
  }
  return false;
}
