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
}

/** The mutable builder a feature's `compileRoute` fills in; frozen into a {@link CompiledRoute}. */
export interface RouteStages {
  authenticators: Authenticator[];
  authorizer: Authorizer | undefined;
  limiters: Limiter[];
  mutators: Mutator[];
  /** Names (any case/underscore form) of headers this route's features may inject: stripped from requests. */
  stripNames: Set<string>;
}
