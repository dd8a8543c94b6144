import type { Authenticator, Authorizer, Limiter, Mutator } from './stages.js';

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
