import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, type CompactJWEHeaderParameters } from 'jose';

const MIN_SECRET_LENGTH = 32;
const SALT = 'gatehouse.keyring.v1';
const TAG_BYTES = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Key {
  readonly kid: string;
  readonly enc: Uint8Array;
  readonly mac: Buffer;
}

function derive(secret: string, info: string, bytes: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, info, bytes));
}

/**
 * The secrets that protect Gatehouse's cookies and login state. The newest secret encrypts and
 * signs; every secret in the ring decrypts and verifies, so a new secret can be prepended (and
 * the oldest dropped later) without logging anyone out.
 *
 * Each secret is expanded with HKDF-SHA256 (RFC 5869) into independent 256-bit keys for
 * encryption and MAC; the key id is derived too, so it reveals nothing about the secret.
 */
export class KeyRing {
  readonly #keys: readonly Key[];
  readonly #byKid: ReadonlyMap<string, Key>;

  private constructor(keys: readonly Key[]) {
    this.#keys = keys;
    this.#byKid = new Map(keys.map((k) => [k.kid, k]));
  }

  /**
   * Builds a ring from secrets, newest first. Each must be at least 32 characters; duplicates
   * are rejected (they usually mean a rotation went wrong).
   */
  static fromSecrets(secrets: readonly string[]): KeyRing {
    if (secrets.length === 0) throw new TypeError('the key ring needs at least one secret');
    const keys = secrets.map((secret, i) => {
      if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
        throw new TypeError(`secret #${i + 1} must be at least ${MIN_SECRET_LENGTH} characters long`);
      }
      return {
        kid: derive(secret, 'kid', 6).toString('base64url'),
        enc: new Uint8Array(derive(secret, 'enc A256GCM', 32)),
        mac: derive(secret, 'mac HS256', 32),
      };
    });
    const kids = new Set(keys.map((k) => k.kid));
    if (kids.size !== keys.length) throw new TypeError('the key ring contains the same secret twice');
    return new KeyRing(keys);
  }

  /** Number of secrets in the ring. */
  get size(): number {
    return this.#keys.length;
  }

  /** Key id of the newest secret (the one that seals and signs). */
  get currentKid(): string {
    return (this.#keys[0] as Key).kid;
  }

  /**
   * Encrypts `payload` (JSON) as a compact JWE (`dir` + `A256GCM`, RFC 7516) with the newest key.
   * `purpose` and the expiry are in the integrity-protected header, so a token sealed for one
   * purpose (say, login state) can never be accepted as another (say, a session cookie).
   */
  async seal(payload: object, purpose: string, ttlSeconds: number): Promise<string> {
    const key = this.#keys[0] as Key;
    const exp = Math.floor(Date.now() / 1000) + Math.max(0, Math.floor(ttlSeconds));
    return new CompactEncrypt(encoder.encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: key.kid, pur: purpose, exp })
      .encrypt(key.enc);
  }

  /**
   * Decrypts a token from {@link seal}. Resolves to `undefined` on any failure: unknown key,
   * tampering, wrong purpose, expired, or a payload that is not a JSON object.
   */
  async open(token: string, purpose: string): Promise<Record<string, unknown> | undefined> {
    let header: CompactJWEHeaderParameters;
    let plaintext: Uint8Array;
    try {
      const res = await compactDecrypt(
        token,
        (h) => {
          const key = typeof h.kid === 'string' ? this.#byKid.get(h.kid) : undefined;
          if (key === undefined) throw new Error('unknown kid');
          return key.enc;
        },
        { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] },
      );
      header = res.protectedHeader;
      plaintext = res.plaintext;
    } catch {
      return undefined;
    }
    if (header.pur !== purpose) return undefined;
    if (typeof header.exp !== 'number' || header.exp <= Math.floor(Date.now() / 1000)) return undefined;
    try {
      const v: unknown = JSON.parse(decoder.decode(plaintext));
      return v !== null && typeof v === 'object' && !Array.isArray(v)
        ? (v as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** `value.<HMAC-SHA256 tag>` with the newest key, for small signed values. */
  sign(value: string): string {
    return `${value}.${createHmac('sha256', (this.#keys[0] as Key).mac)
      .update(value)
      .digest('base64url')}`;
  }

  /** The value of a {@link sign}ed string when its tag verifies under any key, else `undefined`. */
  verify(signed: string): string | undefined {
    const dot = signed.lastIndexOf('.');
    if (dot < 0) return undefined;
    const value = signed.slice(0, dot);
    const tagText = signed.slice(dot + 1);
    const tag = Buffer.from(tagText, 'base64url');
    if (tag.length !== TAG_BYTES || tag.toString('base64url') !== tagText) return undefined;
    let ok = false;
    for (const k of this.#keys) {
      const expected = createHmac('sha256', k.mac).update(value).digest();
      if (timingSafeEqual(expected, tag)) ok = true;
    }
    return ok ? value : undefined;
  }
}
