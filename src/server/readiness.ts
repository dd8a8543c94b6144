import type { RuntimeState } from '../config/compile.js';
import type { ProviderRegistry } from '../authn/providers.js';
import { SESSION_SERVICE, type SessionRuntime } from '../oidc/runtime.js';

/** A dependency the running state still waits for (readiness details, reload checks). */
export interface MissingDependency {
  /** `jwks`: a provider's signing keys; `login`: OpenID Connect discovery of the login provider. */
  readonly kind: 'jwks' | 'login';
  readonly provider: string;
}

/**
 * What `state` still waits for: providers whose keys are not usable (their bearer routes answer
 * 503 `GH_IDP_UNAVAILABLE`) and a login provider not discovered yet (login answers 503
 * `GH_LOGIN_IDP_UNAVAILABLE`). Empty when everything is loaded. Names only: error details (URLs,
 * network errors) go to the log, never to the unauthenticated readiness endpoint.
 */
export function missingDependencies(state: RuntimeState): MissingDependency[] {
  const out: MissingDependency[] = [];
  const providers = state.services.get('providers') as ProviderRegistry | undefined;
  for (const provider of providers?.unavailable() ?? []) out.push({ kind: 'jwks', provider });
  const session = state.services.get(SESSION_SERVICE) as SessionRuntime | undefined;
  if (session && session.client.metadata === undefined)
    out.push({ kind: 'login', provider: session.provider });
  return out;
}

/**
 * Dependencies `next` misses that `previous` had loaded: a reload must not trade working keys for
 * none (a provider new in `next` may still be missing; it recovers in the background).
 */
export function lostDependencies(previous: RuntimeState, next: RuntimeState): MissingDependency[] {
  const key = (d: MissingDependency) => `${d.kind}:${d.provider}`;
  const missingBefore = new Set(missingDependencies(previous).map(key));
  const loadedBefore = new Set<string>();
  const providers = previous.services.get('providers') as ProviderRegistry | undefined;
  for (const p of providers?.providers.values() ?? []) if (p.keys) loadedBefore.add(`jwks:${p.name}`);
  const session = previous.services.get(SESSION_SERVICE) as SessionRuntime | undefined;
  if (session) loadedBefore.add(`login:${session.provider}`);
  return missingDependencies(next).filter((d) => loadedBefore.has(key(d)) && !missingBefore.has(key(d)));
}
