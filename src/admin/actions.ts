import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RuntimeState } from '../config/compile.js';
import { GatehouseError } from '../errors/index.js';
import { KEYSET_SERVICE } from '../identity/feature.js';
import type { AssertionKeySet } from '../identity/keyset.js';
import { assertionKeyOptions } from '../identity/export.js';
import { persistNewKey, toAssertionKey, withDirLock } from '../identity/keys.js';
import { runDoctor } from '../doctor/run.js';
import type { IdentityGlobals } from '../identity/schema.js';

/**
 * `POST /api/keys/assertion/rotate`: writes a new managed key for every algorithm the assertion
 * key set signs with (`identity.assertion.key_dir`, under the directory lock other instances
 * honour) and reloads the set. The new key is published at once and signs after
 * `activation_delay`, so verifiers' JWKS caches learn it first. Returns the new key id(s).
 */
export async function assertionRotate(state: RuntimeState, baseDir: string): Promise<string> {
  const ks = state.services.get(KEYSET_SERVICE) as AssertionKeySet | undefined;
  const opts = assertionKeyOptions(state.config as unknown as IdentityGlobals, baseDir);
  if (ks === undefined || opts === undefined)
    throw new GatehouseError('GH_ADMIN_UNAVAILABLE', 'no identity.assertion signing keys are configured');
  const dir = opts.keyDir;
  if (opts.keyFile !== undefined || dir === undefined)
    throw new GatehouseError(
      'GH_ADMIN_UNAVAILABLE',
      'identity.assertion.key_file is a manual key: rotate it by replacing the file (previous_key_files); key_dir keys rotate here',
    );
  const now = Date.now();
  const files = withDirLock(dir, () => ks.algorithms().map((alg) => persistNewKey(dir, alg, now)));
  ks.refresh();
  return files
    .map((f) => toAssertionKey(createPrivateKey(readFileSync(f.path)), f.alg, f.createdAt).kid)
    .join(',');
}

/** What `GET /api/api-keys` lists of a key: never the key or its hash. */
interface KeyView {
  readonly principal: {
    readonly credentialId?: string | undefined;
    readonly name?: string | undefined;
    readonly clientId?: string | undefined;
  };
  readonly expiresAt: number;
}

/**
 * `GET /api/api-keys`: the configured API keys (id, name, client, expiry) with their last use
 * seen by this instance (from the decision feed; per instance, labelled). Never a secret or hash.
 */
export function apiKeyList(
  state: RuntimeState,
  used: ReadonlyMap<string, number>,
  instance: string,
): unknown[] {
  const table = state.services.get('authn.apikey.table') as
    { byDigest: ReadonlyMap<string, KeyView> } | undefined;
  if (table === undefined) return [];
  return [...table.byDigest.values()].map((k) => {
    const id = k.principal.credentialId ?? '';
    const last = used.get(id);
    return {
      id,
      name: k.principal.name ?? null,
      client_id: k.principal.clientId ?? null,
      expires: Number.isFinite(k.expiresAt) ? new Date(k.expiresAt).toISOString() : null,
      last_used: last === undefined ? null : new Date(last).toISOString(),
      instance,
    };
  });
}

/** `POST /api/doctor`: `gatehouse doctor --json` on the running config file (network probes, 5 s each). */
export async function runDoctorFor(configFile: string | undefined): Promise<unknown> {
  if (configFile === undefined)
    throw new GatehouseError('GH_ADMIN_UNAVAILABLE', 'this Gatehouse was not started from a config file');
  return runDoctor({ configFile, timeoutMs: 5_000, expiryDays: 30 });
}
