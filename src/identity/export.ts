import { isAbsolute, resolve } from 'node:path';
import type { AssertionAlgorithm } from './keys.js';
import { AssertionKeySet, type KeySetOptions } from './keyset.js';
import type { IdentityGlobals, IdentityRoute } from './schema.js';

/** Default managed key directory, relative to the config file. */
export const DEFAULT_KEY_DIR = '.gatehouse/assertion-keys';

/**
 * Algorithms the routes sign with (`routes[].identity.assertion.alg`, else `dflt`), default
 * first; `[dflt]` when no route has an assertion. Only these get a signing key.
 */
export function routeAlgs(routes: readonly IdentityRoute[], dflt: AssertionAlgorithm): AssertionAlgorithm[] {
  const out = new Set<AssertionAlgorithm>();
  for (const r of routes) if (r.identity?.assertion) out.add(r.identity.assertion.alg ?? dflt);
  if (out.size === 0 || out.has(dflt)) return [dflt, ...[...out].filter((a) => a !== dflt)];
  return [...out];
}

/**
 * Where the assertion keys of `config` come from (paths resolved against `baseDir`), or
 * undefined when no signed assertion is configured. With `key_dir`, one key per algorithm the
 * routes use; `key_file` signs `algorithm` only (feature.ts reports routes asking for another).
 */
export function assertionKeyOptions(
  config: Pick<IdentityGlobals, 'identity' | 'routes'>,
  baseDir: string,
): Omit<KeySetOptions, 'dryRun'> | undefined {
  const ac = config.identity?.assertion;
  if (!ac && !config.routes.some((r) => r.identity?.assertion !== undefined)) return undefined;
  const path = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const dflt = ac?.algorithm ?? 'ES256';
  const [alg, ...extraAlgs] = ac?.key_file === undefined ? routeAlgs(config.routes, dflt) : [dflt];
  return {
    alg: alg as AssertionAlgorithm,
    extraAlgs,
    keyFile: ac?.key_file === undefined ? undefined : path(ac.key_file),
    previousKeyFiles: (ac?.previous_key_files ?? []).map(path),
    keyDir: path(ac?.key_dir ?? DEFAULT_KEY_DIR),
    rotateAfterMs: ac?.rotate_after,
    activationDelayMs: ac?.activation_delay ?? 300_000,
  };
}

/**
 * The public JWKS Gatehouse publishes for `config` now (pending keys included), read from its
 * key_dir or key files without writing or generating anything: `gatehouse keys export`.
 * Throws with a readable message when nothing is configured or a key is missing.
 */
export function exportAssertionJwks(
  config: Pick<IdentityGlobals, 'identity' | 'routes'>,
  baseDir: string,
): string {
  const opts = assertionKeyOptions(config, baseDir);
  if (!opts)
    throw new Error("no signed assertion is configured (identity.assertion or a route's identity.assertion)");
  const doc = JSON.parse(new AssertionKeySet({ ...opts, dryRun: true, readOnly: true }).jwksJson()) as {
    keys: Record<string, string>[];
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
