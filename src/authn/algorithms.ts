import { constants, createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

/** What an algorithm needs from a key and how node:crypto verifies it. */
export interface AlgSpec {
  readonly alg: string;
  /** JWK `kty` the key must have (RFC 7518 §3.1). */
  readonly kty: 'RSA' | 'EC' | 'OKP' | 'oct';
  /** Required JWK `crv` (EC, OKP). */
  readonly crv?: string;
  /** Digest for node:crypto (`null` for EdDSA). */
  readonly hash: string | null;
  readonly pss?: number;
  readonly ecdsa?: boolean;
}

const spec = (alg: string, kty: AlgSpec['kty'], hash: string | null, extra: Partial<AlgSpec> = {}): AlgSpec =>
  Object.freeze({ alg, kty, hash, ...extra });

/** JWS algorithms (RFC 7518 §3, RFC 8037, RFC 9864 `Ed25519`). */
export const ALGS: ReadonlyMap<string, AlgSpec> = new Map(
  [
    spec('RS256', 'RSA', 'sha256'),
    spec('RS384', 'RSA', 'sha384'),
    spec('RS512', 'RSA', 'sha512'),
    spec('PS256', 'RSA', 'sha256', { pss: 32 }),
    spec('PS384', 'RSA', 'sha384', { pss: 48 }),
    spec('PS512', 'RSA', 'sha512', { pss: 64 }),
    spec('ES256', 'EC', 'sha256', { crv: 'P-256', ecdsa: true }),
    spec('ES384', 'EC', 'sha384', { crv: 'P-384', ecdsa: true }),
    spec('ES512', 'EC', 'sha512', { crv: 'P-521', ecdsa: true }),
    spec('EdDSA', 'OKP', null, { crv: 'Ed25519' }),
    spec('Ed25519', 'OKP', null, { crv: 'Ed25519' }),
    spec('HS256', 'oct', 'sha256'),
    spec('HS384', 'oct', 'sha384'),
    spec('HS512', 'oct', 'sha512'),
  ].map((s) => [s.alg, s]),
);

/**
 * Verifies a JWS signature synchronously. The key type was already matched to `spec` by the
 * caller; any crypto failure (wrong length, bad encoding) is a plain `false`.
 */
export function verifySignature(spec: AlgSpec, key: KeyObject, input: string, sig: Buffer): boolean {
  try {
    const data = Buffer.from(input, 'latin1');
    if (spec.ecdsa) return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
    if (spec.pss !== undefined) {
      return verify(
        spec.hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.pss },
        sig,
      );
    }
    if (spec.kty === 'RSA')
      return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}

/** HMAC check in constant time over equal-length digests (RFC 7518 §3.2). */
export function verifyHmac(spec: AlgSpec, secret: Buffer, input: string, sig: Buffer): boolean {
  const mac = createHmac(spec.hash as string, secret)
    .update(input, 'latin1')
    .digest();
  return mac.length === sig.length && timingSafeEqual(mac, sig);
}
