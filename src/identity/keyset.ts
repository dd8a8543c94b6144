import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  RETIRED_KEY_GRACE_MS,
  generateAssertionKey,
  keyMismatch,
  listKeyDir,
  persistNewKey,
  readKeyFile,
  toAssertionKey,
  withDirLock,
  type AssertionAlgorithm,
  type AssertionKey,
  type DirKeyFile,
} from './keys.js';

/** Where assertion keys come from (compiled from `identity.assertion`). */
export interface KeySetOptions {
  readonly alg: AssertionAlgorithm;
  /** Fixed signing key (PEM). Rotation is manual: move the old file to `previousKeyFiles`. */
  readonly keyFile?: string | undefined;
  /** Keys (public or private PEM) still published for verification. */
  readonly previousKeyFiles?: readonly string[] | undefined;
  /** Managed keys: generated on first start, rotated after `rotateAfterMs`. */
  readonly keyDir?: string | undefined;
  readonly rotateAfterMs?: number | undefined;
  /** A new key is published this long before it signs, so verifiers' JWKS caches learn it first. */
  readonly activationDelayMs: number;
  /** `gatehouse validate`: never write; use an in-memory key when the directory is empty. */
  readonly dryRun: boolean;
  readonly now?: () => number;
}

interface State {
  readonly signer: AssertionKey;
  readonly jwksJson: string;
  /** Epoch ms when the signer or the published set changes next. */
  readonly nextChange: number;
}

/**
 * The assertion signing keys and the published JWKS. With `keyDir`, the newest key that has
 * been published for `activationDelayMs` signs; each replaced key stays in the JWKS for
 * {@link RETIRED_KEY_GRACE_MS} after it stopped signing, so every assertion it signed can be
 * verified until it expires.
 */
export class AssertionKeySet {
  private readonly opts: KeySetOptions;
  private readonly now: () => number;
  private readonly loaded = new Map<string, AssertionKey>();
  private keys: AssertionKey[] = [];
  private state: State | undefined;

  /** Loads (and when needed generates) keys. Throws with a readable message on bad files. */
  constructor(opts: KeySetOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.refresh();
  }

  /** Re-reads `keyDir` and rotates when due (called at start and by a timer). */
  refresh(): void {
    const { opts } = this;
    const now = this.now();
    if (opts.keyFile !== undefined) {
      const key = readKeyFile(opts.keyFile);
      if (key.type !== 'private') throw new Error(`${opts.keyFile} holds no private key`);
      const bad = keyMismatch(key, opts.alg);
      if (bad) throw new Error(`${opts.keyFile}: ${bad}`);
      const prev = (opts.previousKeyFiles ?? []).map((f) => {
        const k = readKeyFile(f);
        const alg = guessAlg(k.asymmetricKeyType, k.asymmetricKeyDetails?.namedCurve) ?? opts.alg;
        return { ...toAssertionKey(k, alg, 0), privateKey: undefined };
      });
      this.keys = [...prev, toAssertionKey(key, opts.alg, now)];
      this.state = undefined;
      return;
    }
    const dir = opts.keyDir as string;
    let files = listKeyDir(dir);
    if (this.rotationDue(files, now)) {
      if (opts.dryRun) {
        if (files.length === 0) {
          this.keys = [toAssertionKey(generateAssertionKey(opts.alg), opts.alg, now)];
          this.state = undefined;
          return;
        }
      } else {
        files = withDirLock(dir, () => {
          const again = listKeyDir(dir);
          return this.rotationDue(again, this.now())
            ? [...again, persistNewKey(dir, opts.alg, this.now())]
            : again;
        });
      }
    }
    this.keys = files.map((f) => this.load(f));
    this.state = undefined;
  }

  private rotationDue(files: readonly DirKeyFile[], now: number): boolean {
    const newest = files.at(-1);
    if (!newest || newest.alg !== this.opts.alg) return true;
    return this.opts.rotateAfterMs !== undefined && now - newest.createdAt >= this.opts.rotateAfterMs;
  }

  private load(f: DirKeyFile): AssertionKey {
    const hit = this.loaded.get(f.path);
    if (hit) return hit;
    const key = createPrivateKey(readFileSync(f.path));
    const bad = keyMismatch(key, f.alg);
    if (bad) throw new Error(`${f.path}: ${bad}`);
    const k = toAssertionKey(key, f.alg, f.createdAt);
    this.loaded.set(f.path, k);
    return k;
  }

  private compute(now: number): State {
    const keys = this.keys;
    const delay = this.opts.keyFile !== undefined ? 0 : this.opts.activationDelayMs;
    const activeFrom = (i: number): number =>
      i === 0 ? -Infinity : (keys[i] as AssertionKey).createdAt + delay;
    let s = 0;
    for (let i = 0; i < keys.length; i++)
      if ((keys[i] as AssertionKey).privateKey && activeFrom(i) <= now) s = i;
    let nextChange = Infinity;
    const published = keys.filter((k, i) => {
      if (i >= s || this.opts.keyFile !== undefined) return true;
      const retiredAt = activeFrom(i + 1);
      const until = retiredAt + RETIRED_KEY_GRACE_MS;
      if (now < until) nextChange = Math.min(nextChange, until);
      return now < until;
    });
    for (let i = s + 1; i < keys.length; i++) nextChange = Math.min(nextChange, activeFrom(i));
    return {
      signer: keys[s] as AssertionKey,
      jwksJson: JSON.stringify({ keys: published.map((k) => k.jwk) }),
      nextChange,
    };
  }

  private current(): State {
    const now = this.now();
    if (!this.state || now >= this.state.nextChange) this.state = this.compute(now);
    return this.state;
  }

  /** The key that signs assertions now. */
  signingKey(): AssertionKey {
    return this.current().signer;
  }

  /** The JWKS document (`{"keys":[…]}`) as served at `/.well-known/gatehouse/jwks.json`. */
  jwksJson(): string {
    return this.current().jwksJson;
  }
}

function guessAlg(type: string | undefined, curve: string | undefined): AssertionAlgorithm | undefined {
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'rsa') return 'RS256';
  if (curve === 'prime256v1') return 'ES256';
  if (curve === 'secp384r1') return 'ES384';
  return undefined;
}
