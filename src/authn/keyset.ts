import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet } from 'jose';
import type { Logger } from 'pino';
import { ALGS } from './algorithms.js';
import { jwkProblem } from './key-strength.js';
import { ambientChild } from '../pipeline/tracing.js';

/** One JWK of a provider, imported once into a node:crypto KeyObject. */
export interface KeyEntry {
  readonly kid: string | undefined;
  /** Token `alg` values this key may verify (jose `isUsableJWK` rules, kid aside). */
  readonly algs: ReadonlySet<string>;
  /**
   * Undefined when the JWK cannot verify anything: private, import failed, or refused by
   * `jwkProblem` (RSA under 2048 bits or with an odd-ball exponent, EC curve not `crv`…).
   */
  readonly key: KeyObject | undefined;
  readonly problem: string | undefined;
  readonly fingerprint: string;
  /** Set when a refresh removed the key: cached verifications made with it stop counting. */
  retired: boolean;
}

/** Result of a key lookup for one token. */
export type KeySelection =
  | { readonly kind: 'one'; readonly entry: KeyEntry }
  | { readonly kind: 'none' }
  | { readonly kind: 'many'; readonly count: number };

export interface KeySetOptions {
  readonly provider: string;
  /** Resolves the JWKS URL (config or discovery). */
  readonly jwksUri: () => Promise<string>;
  readonly fetchJson: (url: string) => Promise<unknown>;
  readonly refreshMs: number;
  readonly staleMs: number;
  readonly cooldownMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Longest wait between two JWKS attempts while the IdP cannot be reached. */
export const RETRY_MAX_MS = 30_000;

/**
 * Delay before retry number `failures` (0-based): 1 s doubling up to `capMs`, with ±20 % jitter
 * so a fleet of gateways does not hit a recovering IdP in lockstep.
 */
export function retryDelay(failures: number, capMs: number): number {
  const base = Math.min(capMs, 1000 * 2 ** Math.min(failures, 20));
  return Math.max(100, Math.round(base * (0.8 + Math.random() * 0.4)));
}

const NONE: KeySelection = Object.freeze({ kind: 'none' });

function usableAlgs(jwk: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const { kty, key_ops: ops, ext, alg, use, crv } = jwk;
  if (ext !== undefined && typeof ext !== 'boolean') return out;
  if (ops !== undefined) {
    if (
      !Array.isArray(ops) ||
      !ops.every((o, i) => typeof o === 'string' && ops.indexOf(o) === i) ||
      !ops.includes('verify')
    )
      return out;
  }
  if (use !== undefined && use !== 'sig') return out;
  for (const s of ALGS.values()) {
    if (s.kty === 'oct' || s.kty !== kty) continue;
    if (alg !== undefined && alg !== s.alg) continue;
    if (s.crv !== undefined && crv !== s.crv) continue;
    out.add(s.alg);
  }
  return out;
}

function importEntry(jwk: Record<string, unknown>, previous: ReadonlyMap<string, KeyEntry>): KeyEntry {
  const fingerprint = JSON.stringify(jwk);
  const old = previous.get(fingerprint);
  if (old) return old;
  const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
  const algs = usableAlgs(jwk);
  let key: KeyObject | undefined;
  let problem: string | undefined;
  if (jwk.d !== undefined) problem = 'JWKS member is a private key';
  else if (algs.size > 0) {
    try {
      key = createPublicKey({ key: jwk as never, format: 'jwk' });
      problem = jwkProblem(jwk, key);
      if (problem !== undefined) key = undefined;
    } catch (e) {
      problem = `key import failed: ${(e as Error).message}`;
    }
  }
  return { kid, algs, key, problem, fingerprint, retired: false };
}

/**
 * A provider's own JWKS: loaded at start, refreshed in the background, refetched on an unknown
 * `kid` at most once per cooldown (concurrent misses share one fetch), and kept for a stale window
 * when the IdP cannot be reached. Key selection mirrors `jose.createLocalJWKSet`.
 */
export class KeySet {
  private entries: readonly KeyEntry[] = [];
  private byKid = new Map<string, KeyEntry[]>();
  private loadedAt = 0;
  private lastFetchStart = -Infinity;
  private inflight: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Number of JWKS fetches started (metrics, tests). */
  fetches = 0;
  lastError: string | undefined;
  /** Consecutive failed background attempts (drives the retry backoff). */
  private failures = 0;
  private readonly now: () => number;

  constructor(private readonly opts: KeySetOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Replaces the keys with a JWKS document (validated by jose). */
  setKeys(doc: unknown): void {
    createLocalJWKSet(doc as never);
    const previous = new Map(this.entries.map((e) => [e.fingerprint, e]));
    const next = (doc as { keys: Record<string, unknown>[] }).keys.map((jwk) => importEntry(jwk, previous));
    const kept = new Set(next);
    const removed = this.entries.filter((e) => !kept.has(e));
    for (const e of removed) e.retired = true;
    const byKid = new Map<string, KeyEntry[]>();
    for (const e of next) if (e.kid !== undefined) byKid.set(e.kid, [...(byKid.get(e.kid) ?? []), e]);
    const added = next.filter((e) => !previous.has(e.fingerprint));
    if (this.loadedAt > 0 && (added.length > 0 || removed.length > 0)) {
      this.opts.logger.info(
        { provider: this.opts.provider, added: added.map((e) => e.kid), removed: removed.map((e) => e.kid) },
        'JWKS keys rotated',
      );
    }
    for (const e of added) {
      if (e.problem)
        this.opts.logger.warn(
          { provider: this.opts.provider, kid: e.kid },
          `JWKS key unusable: ${e.problem}`,
        );
    }
    this.entries = next;
    this.byKid = byKid;
    this.loadedAt = this.now();
  }

  /** True when keys were loaded and are within `refresh + stale` of the last successful fetch. */
  usable(): boolean {
    return this.loadedAt > 0 && this.now() - this.loadedAt <= this.opts.refreshMs + this.opts.staleMs;
  }

  get loaded(): boolean {
    return this.loadedAt > 0;
  }

  /** When the keys were last loaded (epoch ms of this set's clock; 0: never), and the stale limit. */
  get freshness(): { readonly loadedAt: number; readonly staleAfterMs: number } {
    return { loadedAt: this.loadedAt, staleAfterMs: this.opts.refreshMs + this.opts.staleMs };
  }

  get size(): number {
    return this.entries.length;
  }

  /** Keys that may verify a token with `alg` and `kid` (jose `isUsableJWK`). */
  select(alg: string, kid: unknown): KeySelection {
    if (kid !== undefined && typeof kid !== 'string') return NONE;
    const list = kid === undefined ? this.entries : this.byKid.get(kid);
    if (!list) return NONE;
    let found: KeyEntry | undefined;
    let count = 0;
    for (const e of list) {
      if (e.algs.has(alg)) {
        found ??= e;
        count++;
      }
    }
    if (count === 0) return NONE;
    return count === 1 ? { kind: 'one', entry: found as KeyEntry } : { kind: 'many', count };
  }

  /** True when an on-demand refetch is allowed now (cooldown elapsed or one already in flight). */
  canRefetch(): boolean {
    return this.inflight !== undefined || this.now() - this.lastFetchStart >= this.opts.cooldownMs;
  }

  /**
   * Fetches the JWKS now, sharing an in-flight fetch. Resolves true on success, false on failure
   * (held keys are kept).
   */
  refresh(): Promise<boolean> {
    if (this.inflight) return this.inflight;
    this.lastFetchStart = this.now();
    this.fetches++;
    const span = ambientChild('jwks.fetch', {
      'http.request.method': 'GET',
      'gatehouse.provider': this.opts.provider,
    });
    this.inflight = this.fetchOnce().finally(() => (this.inflight = undefined));
    if (span !== undefined) void this.inflight.then((ok) => span.end(ok ? undefined : this.lastError));
    return this.inflight;
  }

  private async fetchOnce(): Promise<boolean> {
    let url = '(unresolved)';
    try {
      url = await this.opts.jwksUri();
      this.setKeys(await this.opts.fetchJson(url));
      this.lastError = undefined;
      return true;
    } catch (e) {
      this.lastError = `JWKS fetch from ${url} failed: ${(e as Error).message}`;
      this.opts.logger.warn(
        { provider: this.opts.provider, err: this.lastError, stale: this.loaded && this.usable() },
        'JWKS fetch failed',
      );
      return false;
    }
  }

  /**
   * Initial load (a few quick attempts), then background refresh. Rejects when keys cannot be
   * loaded; the background loop keeps retrying (exponential backoff, see {@link retryDelay})
   * either way, so a provider that was down at start recovers by itself.
   */
  async start(): Promise<void> {
    for (let attempt = 0; attempt < 3 && !this.closed; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt).unref());
      if (await this.refresh()) break;
    }
    this.schedule(this.loaded ? this.opts.refreshMs : this.nextRetry());
    if (!this.loaded) throw new Error(this.lastError ?? 'JWKS not loaded');
  }

  private nextRetry(): number {
    return retryDelay(this.failures++, Math.min(this.opts.refreshMs, RETRY_MAX_MS));
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.refresh().then((ok) => {
        if (ok && this.failures > 0)
          this.opts.logger.info(
            { provider: this.opts.provider },
            'JWKS loaded: the provider is available again',
          );
        if (ok) this.failures = 0;
        this.schedule(ok ? this.opts.refreshMs : this.nextRetry());
      });
    }, ms);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
