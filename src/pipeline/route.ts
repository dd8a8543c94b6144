import type { RouteConfig } from '../config/schema.js';
import type { Authenticator, Authorizer, Limiter, Mutator } from './stages.js';
import type { UpstreamHandle } from '../upstream/pool.js';

/**
 * A route compiled once at config load: matching data plus its ordered, immutable pipeline of
 * stages. Nothing in here is parsed per request.
 */
export interface CompiledRoute {
  readonly name: string;
  readonly index: number;
  /** Config key path, e.g. `routes[2]`, for messages. */
  readonly keyPath: string;
  readonly config: RouteConfig;
  readonly methods: ReadonlySet<string> | undefined;
  readonly caseInsensitive: boolean;
  /** Bytes, or Infinity. */
  readonly maxBodySize: number;
  readonly upstream: UpstreamHandle;
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
