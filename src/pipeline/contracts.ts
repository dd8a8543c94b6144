/**
 * The pipeline's contracts in one module, because they refer to each other: a request context
 * points to its compiled route, a route holds its stages, and every stage takes the context.
 * `context.ts`, `route.ts` and `stages.ts` name the same types for their readers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Decision } from './decision.js';
import type { Principal } from './principal.js';
import type { GatehouseError } from '../errors/index.js';
import type { RequestTrace } from './tracing.js';

/**
 * Per-request state threaded through the pipeline. Created once per request by the server;
 * stages read it and add to it, never re-parse the raw request.
 */
export interface RequestContext {
  readonly id: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** `performance.now()` at accept (milliseconds). */
  readonly start: number;
  /** Immediate TCP peer. */
  readonly peer: string;
  /** Client address derived through the trusted-proxy chain (the peer when it is untrusted). */
  clientIp: string;
  /** True when the immediate peer is in `server.trusted_proxies`. */
  readonly peerTrusted: boolean;
  /** Scheme the client used (from X-Forwarded-Proto only when the peer is trusted). */
  scheme: 'http' | 'https';
  /** Host the client asked for: lower-case, no port. */
  host: string;
  /** Host header value as sent (may include port). */
  hostHeader: string;
  readonly method: string;
  /** The normalised path: what was matched, authorised and forwarded. */
  path: string;
  /** Raw query string including the leading `?`, or ''. Never used for matching. */
  query: string;
  route: CompiledRoute | undefined;
  principal: Principal | undefined;
  /** Headers Gatehouse injects upstream. Hop-by-hop removal never touches these. */
  readonly inject: Map<string, string>;
  /** Lower-cased names of incoming headers to drop before forwarding (spoofed identity, own cookies…). */
  readonly drop: Set<string>;
  /** Reason codes collected along the pipeline (audit, metrics, responses). */
  readonly reasons: string[];
  /** Name of the rule or policy that decided. */
  rule: string | undefined;
  /** Response headers Gatehouse adds to the client response (RateLimit, Set-Cookie, …). */
  readonly responseHeaders: Map<string, string | string[]>;
  /** Upstream status, when forwarded. */
  upstreamStatus: number | undefined;
  /** hrtime when the request was handed to the upstream pool (after authentication). */
  upstreamDispatch: number | undefined;
  /** hrtime when the upstream response headers arrived. */
  upstreamStart: number | undefined;
  upstreamEnd: number | undefined;
  /** Per-request scratch for stages (trace for explain, etc.). */
  readonly extra: Record<string, unknown>;
  /** The request's spans when `tracing:` is configured (src/tracing); undefined otherwise. */
  tracing?: RequestTrace | undefined;
}

/** The keys every route's configuration has, whatever features read besides. */
export interface RouteBasics {
  readonly name?: string | undefined;
  /** `none`, or the authenticators the route accepts. */
  readonly auth: string | readonly string[];
  readonly match: {
    readonly host?: string | readonly string[] | undefined;
    readonly path: string;
    readonly path_type: 'prefix' | 'exact';
    readonly methods?: readonly string[] | undefined;
  };
}

/** Where a route forwards to, as the pipeline sees it; the upstream layer's handle extends it. */
export interface RouteUpstream {
  readonly name: string;
}

/**
 * A route compiled once at config load: matching data plus its ordered, immutable pipeline of
 * stages. Nothing in here is parsed per request. `C` is the route's configuration and `U` its
 * upstream, as precise as the layer holding the route knows them (`config/compile.ts` builds
 * `CompiledRoute<RouteConfig, UpstreamHandle>`).
 */
export interface CompiledRoute<C extends RouteBasics = RouteBasics, U extends RouteUpstream = RouteUpstream> {
  readonly name: string;
  readonly index: number;
  /** Config key path, e.g. `routes[2]`, for messages. */
  readonly keyPath: string;
  readonly config: C;
  readonly methods: ReadonlySet<string> | undefined;
  readonly caseInsensitive: boolean;
  /** Bytes, or Infinity. */
  readonly maxBodySize: number;
  readonly upstream: U;
  readonly preserveHost: boolean;
  /** Matched prefix removed before forwarding (`strip_prefix`), replaced by `rewritePrefix`. */
  readonly stripPrefix: string | undefined;
  readonly rewritePrefix: string | undefined;
  /** `auth: none`: no authenticators, the authoriser allows everyone. */
  readonly public: boolean;
  /** Public, no rules, no limiters, no mutators: forwarded without running the stage pipeline. */
  readonly fastPath: boolean;
  readonly authenticators: readonly Authenticator[];
  readonly authorizer: Authorizer;
  readonly limiters: readonly Limiter[];
  readonly mutators: readonly Mutator[];
  /** Identity-header names (normalised: lower-case, `_` → `-`) always removed from requests. */
  readonly stripNames: ReadonlySet<string>;
  /** Normalised names (`trusted_headers`) that pass from trusted proxies despite the strip lists. */
  readonly trustedHeaders: ReadonlySet<string>;
  /** `websocket: true`: WebSocket upgrades are proxied; every other upgrade is refused. */
  readonly websocket: boolean;
  /** Gatehouse's own cookies: an upstream `Set-Cookie` naming one is dropped. */
  readonly ownCookies: OwnCookies;
}

/** Names and name prefixes of the cookies Gatehouse sets (session, login state). */
export interface OwnCookies {
  /** Exact cookie names (case-sensitive, RFC 6265). */
  readonly names: ReadonlySet<string>;
  /** Lower-cased name prefixes, compared with the cookie name lower-cased. */
  readonly prefixes: readonly string[];
}

/** The mutable builder a feature's `compileRoute` fills in; frozen into a {@link CompiledRoute}. */
export interface RouteStages {
  authenticators: Authenticator[];
  authorizer: Authorizer | undefined;
  limiters: Limiter[];
  mutators: Mutator[];
  /** Names (any case/underscore form) of headers this route's features may inject: stripped from requests. */
  stripNames: Set<string>;
  /** Normalised names a trusted proxy may send despite the strip lists (`trusted_headers`). */
  trustedHeaders: Set<string>;
  websocket: boolean;
  /** Exact names of cookies a feature sets for this route (the session cookie…). */
  ownCookieNames: Set<string>;
  /** Name prefixes of cookies a feature sets (login-state cookies…), any case. */
  ownCookiePrefixes: string[];
}

/** A fresh, empty {@link RouteStages} for features' `compileRoute` to fill in. */
export function emptyStages(): RouteStages {
  return {
    authenticators: [],
    authorizer: undefined,
    limiters: [],
    mutators: [],
    stripNames: new Set(),
    trustedHeaders: new Set(),
    websocket: false,
    ownCookieNames: new Set(),
    ownCookiePrefixes: [],
  };
}

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

/** Starts the trace of each request (src/tracing's Tracer); the runtime state holds one when configured. */
export interface RequestTracer {
  start(ctx: RequestContext): RequestTrace;
}
