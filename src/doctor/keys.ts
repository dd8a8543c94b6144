/**
 * JWKS checks: every published key usable for verification (type, algorithm, size), keys
 * published for encryption flagged, and the algorithms the IdP offers against the ones the
 * provider allows.
 * @module
 */
import { createPublicKey } from 'node:crypto';
import { ALGS } from '../authn/algorithms.js';
import { jwkProblem } from '../authn/key-strength.js';
import type { ProviderConfig } from '../authn/schema.js';
import { finding, type Finding } from './report.js';

/** What one JWK is good for. */
export interface KeyVerdict {
  readonly kid: string;
  /** Algorithms this key can verify (its `alg`, or every one of its type when it has none). */
  readonly algs: readonly string[];
  readonly problem: string | undefined;
  /** `use: enc`: published for encryption, never used to verify a signature. */
  readonly encryption: boolean;
}

/** Judges one JWK the way the key set imports it (`src/authn/keyset.ts`). */
export function judgeJwk(jwk: Record<string, unknown>, i: number): KeyVerdict {
  const kid = typeof jwk.kid === 'string' ? jwk.kid : `#${i}`;
  const encryption = jwk.use === 'enc';
  const none = (problem: string): KeyVerdict => ({ kid, algs: [], problem, encryption });
  if (jwk.d !== undefined) return none('the JWKS publishes a PRIVATE key (member "d")');
  if (encryption) return none('use is "enc": an encryption key, never used to verify signatures');
  if (jwk.use !== undefined && jwk.use !== 'sig') return none(`use is ${JSON.stringify(jwk.use)}`);
  const ops = jwk.key_ops;
  if (Array.isArray(ops) && !ops.includes('verify'))
    return none(`key_ops ${JSON.stringify(ops)} lacks "verify"`);
  if (jwk.kty === 'oct') return none('a symmetric (oct) key: HMAC secrets are never taken from a JWKS');
  const algs: string[] = [];
  for (const s of ALGS.values()) {
    if (s.kty === 'oct' || s.kty !== jwk.kty) continue;
    if (jwk.alg !== undefined && jwk.alg !== s.alg) continue;
    if (s.crv !== undefined && jwk.crv !== s.crv) continue;
    algs.push(s.alg);
  }
  if (algs.length === 0)
    return none(
      jwk.alg !== undefined
        ? `alg ${JSON.stringify(jwk.alg)} does not fit kty ${JSON.stringify(jwk.kty)}${jwk.crv ? `/${String(jwk.crv)}` : ''}`
        : `unsupported key type ${JSON.stringify(jwk.kty)}${jwk.crv ? ` curve ${String(jwk.crv)}` : ''}`,
    );
  try {
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    const problem = jwkProblem(jwk, key);
    return problem === undefined
      ? { kid, algs, problem, encryption }
      : { kid, algs: [], problem, encryption };
  } catch (e) {
    return none(`does not import: ${(e as Error).message}`);
  }
}

/**
 * Findings for a provider's JWKS document: `provider.jwks_key` per unusable or encryption key,
 * `provider.jwks` overall, and `provider.algorithms` (offered vs allowed).
 */
export function keyFindings(
  subject: string,
  cfg: ProviderConfig,
  jwks: unknown,
  discovery: Readonly<Record<string, unknown>> | undefined,
  source: string,
): Finding[] {
  const out: Finding[] = [];
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys)) {
    out.push(
      finding.error(
        'provider.jwks',
        subject,
        'the JWKS document has no "keys" array',
        `${source} answered ${JSON.stringify(jwks).slice(0, 200)}`,
        "point jwks_uri (or the discovery document) at the IdP's JSON Web Key Set",
      ),
    );
    return out;
  }
  const allowed = new Set<string>(cfg.algorithms);
  const verdicts = keys.map((k, i) => judgeJwk((k ?? {}) as Record<string, unknown>, i));
  for (const v of verdicts) {
    if (v.encryption)
      out.push(
        finding.warning(
          'provider.jwks_key',
          subject,
          `key ${v.kid} is an encryption key (use=enc) and will never verify a token`,
          `${source}: kid ${v.kid}, use "enc"`,
          "nothing to change in Gatehouse if another key signs; if tokens name this kid, the IdP signs with an encryption key: fix the key's use at the IdP",
        ),
      );
    else if (v.problem !== undefined)
      out.push(
        finding.error(
          'provider.jwks_key',
          subject,
          `key ${v.kid} cannot verify tokens`,
          `${source}: kid ${v.kid}: ${v.problem}`,
          'tokens signed with this key are refused; have the IdP publish an RSA key of at least 2048 bits, an EC P-256/384/521 or an Ed25519 key with a matching alg',
        ),
      );
  }
  const usable = verdicts.filter((v) => v.problem === undefined);
  const usableAllowed = usable.filter((v) => v.algs.some((a) => allowed.has(a)));
  const keyAlgs = [...new Set(usable.flatMap((v) => v.algs))];
  if (usableAllowed.length === 0)
    out.push(
      finding.error(
        'provider.jwks',
        subject,
        'no published key can verify a token with an allowed algorithm',
        `${keys.length} key(s) at ${source}; usable for ${keyAlgs.join(', ') || 'nothing'}; allowed: ${[...allowed].join(', ')}`,
        keyAlgs.length > 0
          ? `add the IdP's algorithm to ${subject}.algorithms (e.g. [${keyAlgs.slice(0, 2).join(', ')}])`
          : 'have the IdP publish a signing key (use "sig")',
      ),
    );
  else
    out.push(
      finding.ok(
        'provider.jwks',
        subject,
        `JWKS reachable: ${usableAllowed.length} of ${keys.length} key(s) verify with an allowed algorithm`,
        `${source}: ${usable.map((v) => `${v.kid} (${v.algs.join('/')})`).join(', ')}`,
      ),
    );
  out.push(algorithmFinding(subject, allowed, keys, discovery));
  return out;
}

function algorithmFinding(
  subject: string,
  allowed: ReadonlySet<string>,
  keys: readonly unknown[],
  discovery: Readonly<Record<string, unknown>> | undefined,
): Finding {
  const advertised = discovery?.id_token_signing_alg_values_supported;
  const docAlgs = Array.isArray(advertised)
    ? advertised.filter((a): a is string => typeof a === 'string')
    : [];
  const keyAlgs = keys
    .map((k) => k as { alg?: unknown; use?: unknown })
    .filter((k) => k.use !== 'enc' && typeof k.alg === 'string')
    .map((k) => k.alg as string);
  const offered = [...new Set([...docAlgs.filter((a) => a !== 'none'), ...keyAlgs])];
  const both = offered.filter((a) => allowed.has(a));
  const evidence = `offered: ${offered.join(', ') || '(none named)'} (id_token_signing_alg_values_supported${keyAlgs.length ? " and the keys' alg" : ''}); allowed: ${[...allowed].join(', ')}`;
  if (offered.length > 0 && both.length === 0)
    return finding.error(
      'provider.algorithms',
      subject,
      'the IdP signs with algorithms this provider does not allow',
      evidence,
      `set ${subject}.algorithms to include ${
        offered
          .filter((a) => a !== 'HS256')
          .slice(0, 2)
          .join(', ') || offered[0]
      }`,
    );
  const unused = keyAlgs.filter((a) => !allowed.has(a));
  if (unused.length > 0)
    return finding.warning(
      'provider.algorithms',
      subject,
      `some keys sign with ${[...new Set(unused)].join(', ')}, which this provider does not allow`,
      evidence,
      `tokens signed with those keys are refused (GH_TOKEN_INVALID, alg not allowed); add ${[...new Set(unused)].join(', ')} to ${subject}.algorithms if the IdP uses them for access tokens`,
    );
  return finding.ok('provider.algorithms', subject, 'the IdP signs with an allowed algorithm', evidence);
}
