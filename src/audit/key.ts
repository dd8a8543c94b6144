import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hash,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Signature algorithm of audit checkpoints: Ed25519, or ES256 (ECDSA P-256, raw r‖s) for FIPS shops. */
export type CheckpointAlg = 'Ed25519' | 'ES256';

/** The key that signs the checkpoints of an audit chain. */
export interface SigningKey {
  readonly alg: CheckpointAlg;
  /** `file` (configured `audit.integrity.key_file`) or `ephemeral` (generated at start). */
  readonly source: 'file' | 'ephemeral';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SPKI PEM of the public key, as written in the chain's first record. */
  readonly publicPem: string;
  /** Key id: base64url SHA-256 of the DER SubjectPublicKeyInfo (what `audit verify` prints and pins). */
  readonly kid: string;
}

/** An audit key problem at start; `code` is a stable string, `path` the config key. */
export class AuditKeyError extends Error {
  readonly code = 'GH_AUDIT_KEY_INVALID';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** Algorithm of a public or private key, or undefined when it is neither Ed25519 nor P-256. */
export function algOf(key: KeyObject): CheckpointAlg | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  return undefined;
}

/** Key id of a public key: base64url SHA-256 of its DER SubjectPublicKeyInfo. */
export function keyId(publicKey: KeyObject): string {
  return hash('sha256', publicKey.export({ type: 'spki', format: 'der' }), 'base64url');
}

function fromPrivate(privateKey: KeyObject, source: SigningKey['source'], path: string): SigningKey {
  const alg = algOf(privateKey);
  if (alg === undefined) throw new AuditKeyError(path, 'expected an Ed25519 or EC P-256 private key');
  const publicKey = createPublicKey(privateKey);
  return {
    alg,
    source,
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    kid: keyId(publicKey),
  };
}

/**
 * The checkpoint signing key: read from `keyFile` (PKCS#8 or SEC1 PEM; read once at start) or,
 * without one, a fresh Ed25519 key for this process whose public key goes in the chain's
 * first record. Throws {@link AuditKeyError} naming `audit.integrity.key_file`.
 */
export function loadSigningKey(keyFile: string | undefined): SigningKey {
  const path = 'audit.integrity.key_file';
  if (keyFile === undefined) return fromPrivate(generateKeyPairSync('ed25519').privateKey, 'ephemeral', path);
  let pem: string;
  try {
    pem = readFileSync(keyFile, 'utf8');
  } catch (e) {
    throw new AuditKeyError(path, `cannot read ${keyFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new AuditKeyError(path, `${keyFile} is not a PEM private key`);
  }
  return fromPrivate(key, 'file', path);
}

/** Signs `data` with the checkpoint key: base64url signature. */
export function signCheckpoint(key: SigningKey, data: string): string {
  const sig =
    key.alg === 'Ed25519'
      ? sign(null, Buffer.from(data), key.privateKey)
      : sign('sha256', Buffer.from(data), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return sig.toString('base64url');
}

/** Checks a checkpoint signature made by {@link signCheckpoint}. */
export function verifyCheckpoint(publicKey: KeyObject, data: string, sig: string): boolean {
  const alg = algOf(publicKey);
  const s = Buffer.from(sig, 'base64url');
  try {
    if (alg === 'Ed25519') return verify(null, Buffer.from(data), publicKey, s);
    if (alg === 'ES256')
      return verify('sha256', Buffer.from(data), { key: publicKey, dsaEncoding: 'ieee-p1363' }, s);
  } catch {
    return false;
  }
  return false;
}

/** The bytes a checkpoint signs: chain id, the checkpoint's seq, the hash before it, its time. */
export function checkpointMessage(chain: string, seq: number, prev: string, time: string): string {
  return `gatehouse-audit-checkpoint/1\n${chain}\n${seq}\n${prev}\n${time}`;
}

/** A fresh Ed25519 key pair as PEM (`gatehouse audit keygen`). */
export function newKeyPair(): { privatePem: string; publicPem: string; kid: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    kid: keyId(publicKey),
  };
}
