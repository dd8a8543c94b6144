import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** Signing algorithms offered for the identity assertion (JWS `alg`). */
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const;
export type AssertionAlgorithm = (typeof ASSERTION_ALGORITHMS)[number];

/** A public key as published in the JWKS (RFC 7517). */
export type PublicJwk = Record<string, string>;

/** One assertion key: private half for signing, public JWK for the JWKS. */
export interface AssertionKey {
  readonly kid: string;
  readonly alg: AssertionAlgorithm;
  /** Undefined for verification-only keys (`previous_key_files` holding a public key). */
  readonly privateKey: KeyObject | undefined;
  readonly jwk: PublicJwk;
  /** Epoch ms the key was created (key_dir) or loaded. */
  readonly createdAt: number;
}

/** Longest assertion lifetime (5 min) plus clock skew: how long a replaced key stays published. */
export const RETIRED_KEY_GRACE_MS = 5 * 60_000 + 60_000;

const CURVE: Partial<Record<AssertionAlgorithm, string>> = { ES256: 'prime256v1', ES384: 'secp384r1' };

/** Generates a fresh private key for `alg`. */
export function generateAssertionKey(alg: AssertionAlgorithm): KeyObject {
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  if (alg === 'RS256' || alg === 'PS256')
    return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return generateKeyPairSync('ec', { namedCurve: CURVE[alg] as string }).privateKey;
}

/** Error message when `key` cannot sign `alg`, else undefined. */
export function keyMismatch(key: KeyObject, alg: AssertionAlgorithm): string | undefined {
  const t = key.asymmetricKeyType;
  if (alg === 'EdDSA') return t === 'ed25519' ? undefined : `algorithm EdDSA needs an Ed25519 key, got ${t}`;
  if (alg === 'RS256' || alg === 'PS256') {
    if (t !== 'rsa') return `algorithm ${alg} needs an RSA key, got ${t}`;
    return (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048
      ? `RSA keys must be at least 2048 bits`
      : undefined;
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return t === 'ec' && curve === CURVE[alg]
    ? undefined
    : `algorithm ${alg} needs an EC ${CURVE[alg]} key, got ${t} ${curve ?? ''}`.trim();
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a public JWK: the `kid`. */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === 'OKP'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
        : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** Builds an {@link AssertionKey} from a private (or, verification-only, public) key. */
export function toAssertionKey(key: KeyObject, alg: AssertionAlgorithm, createdAt: number): AssertionKey {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const raw = pub.export({ format: 'jwk' }) as Record<string, string>;
  const kid = jwkThumbprint(raw);
  return {
    kid,
    alg,
    privateKey: key.type === 'private' ? key : undefined,
    jwk: { ...raw, kid, alg, use: 'sig' },
    createdAt,
  };
}

/** Reads a PEM private or public key file. Throws with a readable message. */
export function readKeyFile(path: string): KeyObject {
  const pem = readFileSync(path);
  try {
    return createPrivateKey(pem);
  } catch {
    return createPublicKey(pem);
  }
}

const FILE = /^(\d{13})\.(ES256|ES384|EdDSA|RS256|PS256)\.key\.pem$/;

/** A key file found in `key_dir`. */
export interface DirKeyFile {
  readonly path: string;
  readonly createdAt: number;
  readonly alg: AssertionAlgorithm;
}

/** Lists `<createdAtMs>.<alg>.key.pem` files in `dir`, oldest first; [] when the dir is missing. */
export function listKeyDir(dir: string): DirKeyFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: DirKeyFile[] = [];
  for (const n of names) {
    const m = FILE.exec(n);
    if (m) out.push({ path: join(dir, n), createdAt: Number(m[1]), alg: m[2] as AssertionAlgorithm });
  }
  return out.sort((a, b) => a.createdAt - b.createdAt);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `fn` holding `<dir>/.lock` (created exclusively), so several workers or instances
 * sharing the directory do not generate competing keys. A lock older than 30 s is stale.
 */
export function withDirLock<T>(dir: string, fn: () => T): T {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = join(dir, '.lock');
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age > 30_000 || Date.now() > deadline) rmSync(lock, { force: true });
      else sleepSync(50);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Writes a new private key into `dir` (0600) and returns its file entry. */
export function persistNewKey(dir: string, alg: AssertionAlgorithm, now: number): DirKeyFile {
  const key = generateAssertionKey(alg);
  const path = join(dir, `${now}.${alg}.key.pem`);
  writeFileSync(path, key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  return { path, createdAt: now, alg };
}
