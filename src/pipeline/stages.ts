import type { RequestContext } from './context.js';
import type { Decision } from './decision.js';
import type { Principal } from './principal.js';
import type { GatehouseError } from '../errors/index.js';

/**
 * Result of one authenticator: `none` when the request carries no credential of its kind
 * (the next authenticator is tried), otherwise a principal. An invalid credential throws a
 * GatehouseError (401/503...), which ends the pipeline.
 */
export type AuthnResult = { readonly kind: 'none' } | { readonly kind: 'ok'; readonly principal: Principal };

export const AUTHN_NONE: AuthnResult = Object.freeze({ kind: 'none' });

/** A compiled authenticator (oathkeeper-style), built once at config load. */
export interface Authenticator {
  readonly id: string;
  authenticate(ctx: RequestContext): AuthnResult | Promise<AuthnResult>;
  /**
   * Answer a request that carried no credential at all. Return true when the response was
   * written (e.g. a login redirect for browser navigations); false to fall through to 401.
   */
  challenge?(ctx: RequestContext): boolean | Promise<boolean>;
  /** Value for `WWW-Authenticate` on 401 responses (e.g. `Bearer realm="gatehouse"`). */
  readonly wwwAuthenticate?: string | undefined;
}

/** A compiled authoriser: a plain function over the verified identity and the request. */
export interface Authorizer {
  readonly id: string;
  /** True for the authoriser of a public route without rules: lets the handler skip the stage pipeline. */
  readonly allowsAll?: boolean;
  authorize(ctx: RequestContext, principal: Principal | undefined, explain?: boolean): Decision;
}

/** Result of a limiter: allowed or not, plus response headers (RateLimit, Retry-After). */
export interface LimitResult {
  readonly allowed: boolean;
  /** The error to answer with when not allowed (429 with Retry-After, or 503 when a store failed closed). */
  readonly error?: GatehouseError | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly reason?: string | undefined;
}

export interface Limiter {
  readonly id: string;
  check(ctx: RequestContext): LimitResult | Promise<LimitResult>;
}

/**
 * A compiled mutator: sets `ctx.inject` (headers to send upstream) and `ctx.drop` after the
 * request was authorised. Runs only for allowed requests.
 */
export interface Mutator {
  readonly id: string;
  mutate(ctx: RequestContext): void | Promise<void>;
}

/**
 * A handler for a reserved endpoint under `/.gatehouse/` or `/.well-known/`. `S` is the runtime
 * state the request is served from, for endpoints the server layer builds (forward-auth runs
 * the route table); features' endpoints ignore it.
 */
export interface InternalEndpoint<S = unknown> {
  readonly path: string;
  /** Match `path` as a prefix (segment boundary) instead of exactly. */
  readonly prefix?: boolean;
  handle(ctx: RequestContext, state: S): void | Promise<void>;
}
