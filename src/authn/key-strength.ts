import type { KeyObject } from 'node:crypto';

/** Smallest RSA modulus Gatehouse trusts (NIST SP 800-131A: 112-bit security). */
export const MIN_RSA_BITS = 2048;

/** Upper bound of an RSA public exponent (FIPS 186-5 §A.1.1: e < 2^256). */
const MAX_RSA_EXPONENT = 1n << 256n;

/** Node's names of the EC curves Gatehouse trusts, by JOSE `crv` (RFC 7518 §6.2.1.1). */
const EC_CURVES: ReadonlyMap<string, { readonly node: string; readonly bytes: number }> = new Map([
  ['P-256', { node: 'prime256v1', bytes: 32 }],
  ['P-384', { node: 'secp384r1', bytes: 48 }],
  ['P-521', { node: 'secp521r1', bytes: 66 }],
]);
const TRUSTED_CURVES: ReadonlySet<string> = new Set([...EC_CURVES.values()].map((c) => c.node));

/**
 * Why a public key is too weak to trust, or undefined. RSA (and RSA-PSS): at least 2048 bits
 * and an odd public exponent with 3 ≤ e < 2^256 (RFC 8017 §3.1; `e = 1` makes "signatures"
 * equal to the message, an even `e` is not invertible); EC: P-256, P-384 or P-521;
 * Ed25519 and Ed448. Anything else (DSA, other curves) is refused.
 */
export function keyWeakness(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = d.modulusLength;
    if (bits === undefined || bits < MIN_RSA_BITS)
      return `RSA key of ${bits ?? '?'} bits (at least ${MIN_RSA_BITS} required)`;
    const e = d.publicExponent;
    if (e === undefined || e < 3n || e % 2n === 0n || e >= MAX_RSA_EXPONENT)
      return `RSA public exponent ${e ?? '?'} is not an odd number from 3 to 2^256`;
    return undefined;
  }
  if (type === 'ec') {
    const curve = d.namedCurve;
    return curve !== undefined && TRUSTED_CURVES.has(curve)
      ? undefined
      : `EC key on curve ${curve ?? '?'} (P-256, P-384 or P-521 required)`;
  }
  if (type === 'ed25519' || type === 'ed448') return undefined;
  return `${type ?? 'unknown'} keys are not accepted`;
}

function octets(v: unknown): number {
  return typeof v === 'string' ? Buffer.from(v, 'base64url').length : -1;
}

/**
 * Why an imported JWK is unusable, or undefined: {@link keyWeakness}, plus EC keys whose
 * imported curve is not the one `crv` names or whose coordinates are not the full size of that
 * curve (RFC 7518 §6.2.1.2–3: "MUST be the full size of a coordinate"; Node accepts shorter and
 * longer ones), and Ed25519 keys whose `x` is not 32 bytes (RFC 8037 §2).
 */
export function jwkProblem(jwk: Readonly<Record<string, unknown>>, key: KeyObject): string | undefined {
  if (jwk.kty === 'EC') {
    const want = EC_CURVES.get(jwk.crv as string);
    const got = key.asymmetricKeyDetails?.namedCurve;
    if (want === undefined || got !== want.node)
      return `EC key on curve ${got ?? '?'} does not match crv ${JSON.stringify(jwk.crv)}`;
    if (octets(jwk.x) !== want.bytes || octets(jwk.y) !== want.bytes)
      return `EC coordinates are not ${want.bytes} bytes as ${String(jwk.crv)} requires`;
  }
  if (
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    (key.asymmetricKeyType !== 'ed25519' || octets(jwk.x) !== 32)
  )
    return 'Ed25519 key is not a 32-byte public key';
  return keyWeakness(key);
}
