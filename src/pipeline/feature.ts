import type { Logger } from 'pino';
import type { InternalEndpoint } from './stages.js';
import type { RouteBasics, RouteStages } from './route.js';

/** A config problem found at compile time, with the exact key path. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
  readonly severity?: 'error' | 'warning';
}

/**
 * What a feature sees while the config compiles. Compilation is pure but for `onStart`
 * (async work such as fetching JWKS, deferred until the gateway starts) and `onClose`.
 *
 * `G` is the part of the root configuration the feature reads (its own top-level sections,
 * declared by the feature): the pipeline never knows the whole config's shape.
 */
export interface CompileContext<G = unknown> {
  readonly config: G;
  readonly logger: Logger;
  /** Directory of the config file, for resolving relative file paths. */
  readonly baseDir: string;
  /** Add a problem; compilation fails after all features ran if any error was added. */
  issue(path: string, message: string, severity?: 'error' | 'warning'): void;
  /** Shared services created by features (provider registry, session store, redis…), by name. */
  readonly services: Map<string, unknown>;
  /** Async start work (e.g. initial JWKS load). Gatehouse is not ready until all resolve. */
  onStart(fn: () => Promise<void>): void;
  /** Cleanup at shutdown or when this runtime state is replaced by a reload. */
  onClose(fn: () => Promise<void> | void): void;
  /** Register a reserved endpoint under `/.gatehouse/` or `/.well-known/`. */
  registerEndpoint(ep: InternalEndpoint): void;
  /** True when compiling for `gatehouse validate`/`explain`: no network, no files written. */
  readonly dryRun: boolean;
}

/**
 * A feature area (authn, authz, session, identity, limits…): compiles its top-level config
 * once and contributes stages to each route. `G` is the slice of the root config it reads,
 * `R` the route keys it reads; the registry where features are assembled
 * (`config/features.ts`) checks both against the real config types.
 */
export interface Feature<G = unknown, R extends RouteBasics = RouteBasics> {
  readonly id: string;
  compileGlobal?(cctx: CompileContext<G>): void;
  /** `keyPath` is e.g. `routes[3]`. */
  compileRoute?(route: R, keyPath: string, cctx: CompileContext<G>, stages: RouteStages): void;
}
