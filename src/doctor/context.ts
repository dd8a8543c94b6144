/**
 * What every doctor check shares: the compiled configuration, the outbound routes of the
 * providers, the probe timeout and what earlier checks learnt (discovery documents).
 * @module
 */
import { Agent, type Dispatcher } from 'undici';
import type { RuntimeState } from '../config/compile.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { ProviderRegistry } from '../authn/providers.js';
import type { Outbound } from '../net/outbound.js';
import type { SessionRuntime } from '../oidc/runtime.js';
import { SESSION_SERVICE } from '../oidc/runtime.js';

/** A discovery document as fetched by the provider checks. */
export interface Discovered {
  readonly url: string;
  readonly doc: Readonly<Record<string, unknown>>;
}

/** Everything a check family gets. */
export interface DoctorContext {
  readonly state: RuntimeState;
  readonly config: GatehouseConfig;
  readonly baseDir: string;
  /** Timeout of each probe, ms (`--timeout`, default 5 s). */
  readonly timeoutMs: number;
  /** Certificates expiring within this many days are reported (`--expiry-days`, default 30). */
  readonly expiryDays: number;
  /** Local clock, epoch ms. */
  now(): number;
  /** The dispatcher a provider's IdP calls go through (its `proxy`/`ca` settings). */
  dispatcherFor(provider: string): Dispatcher;
  /** Discovery documents the provider checks fetched, by provider name. */
  readonly discovered: Map<string, Discovered>;
  readonly registry: ProviderRegistry | undefined;
  readonly session: SessionRuntime | undefined;
}

/**
 * Builds the context over a state compiled in dry-run mode. The providers' outbound routes are
 * the ones compilation built (`src/net/provider-outbound.ts`), shared with the token verifier
 * and the login client; a provider without one goes direct. `close()` releases what the
 * context created itself.
 */
export function createContext(
  state: RuntimeState,
  opts: { baseDir: string; timeoutMs: number; expiryDays: number; now?: () => number },
): DoctorContext & { close(): Promise<void> } {
  const outbound = state.services.get('outbound') as ReadonlyMap<string, Outbound> | undefined;
  let direct: Agent | undefined;
  return {
    state,
    config: state.config,
    baseDir: opts.baseDir,
    timeoutMs: opts.timeoutMs,
    expiryDays: opts.expiryDays,
    now: opts.now ?? Date.now,
    dispatcherFor(provider) {
      const o = outbound?.get(provider);
      if (o) return o.dispatcher;
      direct ??= new Agent({ connect: { timeout: opts.timeoutMs } });
      return direct;
    },
    discovered: new Map(),
    registry: state.services.get('providers') as ProviderRegistry | undefined,
    session: state.services.get(SESSION_SERVICE) as SessionRuntime | undefined,
    async close() {
      await direct?.close();
    },
  };
}
