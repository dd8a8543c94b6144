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
  /** The default algorithm (`identity.assertion.algorithm`). */
  readonly alg: AssertionAlgorithm;
  /** Further algorithms routes sign with (`routes[].identity.assertion.alg`); `keyDir` only. */
  readonly extraAlgs?: readonly AssertionAlgorithm[] | undefined;
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
  /** `gatehouse keys export`: never write, never invent a key (a missing one is an error). */
  readonly readOnly?: boolean | undefined;
  readonly now?: () => number;
}

interface State {
  readonly signers: ReadonlyMap<AssertionAlgorithm, AssertionKey>;
  readonly jwksJson: string;
  /** Epoch ms when a signer or the published set changes next. */
  readonly nextChange: number;
}

/** What one algorithm's keys (oldest first) contribute at `now`. */
interface AlgState {
  readonly signer: AssertionKey | undefined;
  readonly published: readonly AssertionKey[];
  readonly nextChange: number;
}

/**
 * The assertion signing keys and the published JWKS. There is one signing key per algorithm in
 * use (the default `identity.assertion.algorithm` and every route's `assertion.alg`). With
 * `keyDir`, per algorithm, the newest key that has been published for `activationDelayMs` signs;
 * each replaced key stays in the JWKS for {@link RETIRED_KEY_GRACE_MS} after it stopped
 * signing, so every assertion it signed can be verified until it expires. Keys of an algorithm
 * no route uses any more stay published for that grace after the start or reload that dropped it.
 */
export class AssertionKeySet {
  private readonly opts: KeySetOptions;
  private readonly now: () => number;
  private readonly algs: ReadonlySet<AssertionAlgorithm>;
  private readonly bornAt: number;
  private readonly loaded = new Map<string, AssertionKey>();
  private keys: AssertionKey[] = [];
  private state: State | undefined;

  /** Loads (and when needed generates) keys. Throws with a readable message on bad files. */
  constructor(opts: KeySetOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.algs = new Set([opts.alg, ...(opts.extraAlgs ?? [])]);
    this.bornAt = this.now();
    if (opts.keyFile !== undefined && this.algs.size > 1) {
      const other = [...this.algs].filter((a) => a !== opts.alg).join(', ');
      throw new Error(`key_file signs ${opts.alg} only; ${other} needs key_dir (managed keys)`);
    }
    this.refresh();
  }

  /** The algorithms this set signs with. */
  algorithms(): readonly AssertionAlgorithm[] {
    return [...this.algs];
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
    const due = this.dueAlgs(files, now);
    const memory: AssertionKey[] = [];
    if (due.length > 0) {
      if (opts.readOnly) {
        const missing = due.filter((a) => !files.some((f) => f.alg === a));
        if (missing.length > 0)
          throw new Error(
            `${dir} holds no ${missing.join(', ')} key yet: start Gatehouse once with this config (it generates the keys)`,
          );
      } else if (opts.dryRun) {
        for (const a of due)
          if (!files.some((f) => f.alg === a)) memory.push(toAssertionKey(generateAssertionKey(a), a, now));
      } else {
        files = withDirLock(dir, () => {
          const again = listKeyDir(dir);
          const t = this.now();
          return [...again, ...this.dueAlgs(again, t).map((a) => persistNewKey(dir, a, t))];
        });
      }
    }
    this.keys = [...files.map((f) => this.load(f)), ...memory];
    this.state = undefined;
  }

  /** Algorithms in use whose newest key is missing or older than `rotateAfterMs`. */
  private dueAlgs(files: readonly DirKeyFile[], now: number): AssertionAlgorithm[] {
    const out: AssertionAlgorithm[] = [];
    for (const alg of this.algs) {
      const newest = files.filter((f) => f.alg === alg).at(-1);
      const rotate = this.opts.rotateAfterMs;
      if (!newest || (rotate !== undefined && now - newest.createdAt >= rotate)) out.push(alg);
    }
    return out;
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

  /** Signer and published keys of one algorithm's keys (oldest first). */
  private computeAlg(keys: readonly AssertionKey[], now: number): AlgState {
    const manual = this.opts.keyFile !== undefined;
    const delay = manual ? 0 : this.opts.activationDelayMs;
    const activeFrom = (i: number): number =>
      i === 0 ? -Infinity : (keys[i] as AssertionKey).createdAt + delay;
    let s = -1;
    for (let i = 0; i < keys.length; i++)
      if ((keys[i] as AssertionKey).privateKey && activeFrom(i) <= now) s = i;
    let nextChange = Infinity;
    const published = keys.filter((_k, i) => {
      if (i >= s || manual) return true;
      const until = activeFrom(i + 1) + RETIRED_KEY_GRACE_MS;
      if (now < until) nextChange = Math.min(nextChange, until);
      return now < until;
    });
    for (let i = Math.max(s, 0) + 1; i < keys.length; i++) nextChange = Math.min(nextChange, activeFrom(i));
    return { signer: s < 0 ? undefined : keys[s], published, nextChange };
  }

  private compute(now: number): State {
    const byAlg = new Map<AssertionAlgorithm, AssertionKey[]>();
    const manual = this.opts.keyFile !== undefined;
    for (const k of this.keys) {
      // key_file: the previous keys (any type) retire with the signing key's algorithm.
      const group = manual ? this.opts.alg : k.alg;
      byAlg.set(group, [...(byAlg.get(group) ?? []), k]);
    }
    const signers = new Map<AssertionAlgorithm, AssertionKey>();
    const published = new Set<AssertionKey>();
    let nextChange = Infinity;
    const dropUntil = this.bornAt + RETIRED_KEY_GRACE_MS;
    for (const [alg, keys] of byAlg) {
      const st = this.computeAlg(keys, now);
      const inUse = this.algs.has(alg);
      if (inUse && st.signer) signers.set(alg, st.signer);
      if (inUse || now < dropUntil) st.published.forEach((k) => published.add(k));
      nextChange = Math.min(nextChange, st.nextChange, inUse || now >= dropUntil ? Infinity : dropUntil);
    }
    const jwks = this.keys.filter((k) => published.has(k)).map((k) => k.jwk);
    return { signers, jwksJson: JSON.stringify({ keys: jwks }), nextChange };
  }

  private current(): State {
    const now = this.now();
    if (!this.state || now >= this.state.nextChange) this.state = this.compute(now);
    return this.state;
  }

  /** The key that signs `alg` assertions now (default: the set's default algorithm). */
  signingKey(alg: AssertionAlgorithm = this.opts.alg): AssertionKey {
    const k = this.current().signers.get(alg);
    if (!k) throw new Error(`no ${alg} assertion signing key`);
    return k;
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
