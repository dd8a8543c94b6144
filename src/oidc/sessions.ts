import type { Logger } from 'pino';
import type { Principal } from '../pipeline/principal.js';
import type { KeyRing } from '../session/keyring.js';
import { newSessionId, type SessionData, type SessionStore } from '../session/store.js';
import { isGatehouseError } from '../errors/index.js';
import { describe, isGrantRejected, type TokenSet } from './client.js';

const TOKENS_PURPOSE = 'gatehouse.session-tokens.v1';
const REFRESH_LOCK_TTL_MS = 15_000;
const REFRESH_LOCK_WAIT_MS = 10_000;
/** After a transient refresh failure (IdP down), wait this long before trying again. */
const REFRESH_BACKOFF_MS = 15_000;

/** The main session record: small, read on every request, rewritten on touch. */
export interface SessionRecord {
  readonly v: 1;
  /** The principal rules see (claims already filtered). */
  p: Principal;
  /** Access token expiry (epoch ms), a hint: the tokens record is authoritative. */
  ae?: number | undefined;
  /** Access token lifetime (ms) at the last exchange, bounds the refresh threshold. */
  al?: number | undefined;
  /** True when a refresh token is held. */
  r: boolean;
  /** Created (epoch ms). */
  readonly c: number;
  /** Absolute expiry (epoch ms). */
  readonly x: number;
  /** Last seen (epoch ms), updated at most every touch interval. */
  s: number;
  /** The IdP's session id (`sid` claim), for back-channel logout. */
  readonly isid?: string | undefined;
  /** Name of the login that created the session (absent: the default login). */
  readonly ln?: string | undefined;
  /** When the user authenticated at the IdP (epoch s): ID token `auth_time`, else the login time. */
  readonly at?: number | undefined;
  /** Last request per route-policy group (epoch ms), for per-route idle timeouts. */
  g?: Record<string, number> | undefined;
}

/** The tokens record (`t:<id>`): sealed tokens, written only at login and refresh. */
interface TokensRecord {
  /** Sealed `{at, rt, it}`. */
  readonly t: string;
  readonly ae?: number | undefined;
}

interface Tokens {
  at?: string | undefined;
  rt?: string | undefined;
  it?: string | undefined;
}

/** What a refresh needs from the OIDC client (an interface so tests can count calls). */
export interface Refresher {
  /** `login`: the session's login (its client refreshes). */
  refresh(refreshToken: string, login?: string): Promise<TokenSet>;
}

/** Session timing, all in ms. */
export interface SessionTimes {
  readonly absolute: number;
  readonly idle: number;
  readonly refreshBefore: number;
}

/** Why a session ended, for audit. */
export type EndReason = 'logout' | 'expired' | 'idle' | 'refresh_failed' | 'subject_changed';

/** Callbacks for session lifecycle events (audit). */
export interface SessionEvents {
  refreshed?(id: string, rec: SessionRecord): void;
  ended?(id: string, rec: SessionRecord | undefined, reason: EndReason, detail?: string): void;
}

function isRecord(d: SessionData | null | undefined): d is SessionData & SessionRecord {
  return (
    d !== undefined &&
    d !== null &&
    d.v === 1 &&
    typeof d.x === 'number' &&
    typeof d.s === 'number' &&
    typeof d.p === 'object' &&
    d.p !== null
  );
}

/**
 * Server-side sessions: the cookie only names a record in the store. Enforces absolute lifetime
 * and idle timeout, touches at most every `touch` ms to keep store writes low, and refreshes
 * tokens single-flight per session (in-process map + the store's lock, so across instances).
 */
export class SessionManager {
  readonly touchInterval: number;
  readonly #inflight = new Map<string, Promise<SessionRecord | undefined>>();
  readonly #backoff = new Map<string, number>();

  constructor(
    readonly store: SessionStore,
    private readonly keys: KeyRing,
    private readonly refresher: Refresher,
    readonly times: SessionTimes,
    private readonly logger: Logger,
    private readonly principalOf: (
      claims: Record<string, unknown>,
      id: string,
      expiresAt: number,
      login?: string,
    ) => Principal,
    private readonly events: SessionEvents = {},
  ) {
    this.touchInterval = Math.max(1000, Math.min(60_000, Math.floor(times.idle / 4)));
  }

  /** Creates a session for a fresh login; returns its new id (regenerated at every login). */
  async create(
    claims: Record<string, unknown>,
    tokens: TokenSet,
    idpSid: string | undefined,
    login?: string,
  ): Promise<string> {
    const id = newSessionId();
    const now = Date.now();
    const x = now + this.times.absolute;
    const authTime = claims.auth_time;
    const rec: SessionRecord = {
      v: 1,
      p: this.principalOf(claims, id, x, login),
      ln: login,
      at:
        typeof authTime === 'number' && Number.isFinite(authTime)
          ? Math.floor(authTime)
          : Math.floor(now / 1000),
      ae: tokens.accessExpiresAt,
      al: tokens.accessExpiresAt === undefined ? undefined : tokens.accessExpiresAt - now,
      r: tokens.refreshToken !== undefined,
      c: now,
      x,
      s: now,
      isid: idpSid,
    };
    await this.#writeTokens(
      id,
      { at: tokens.accessToken, rt: tokens.refreshToken, it: tokens.idToken },
      tokens.accessExpiresAt,
      x - now,
    );
    await this.store.set(id, rec as unknown as SessionData, Math.min(x - now, this.times.idle));
    const ttl = x - now;
    const sub = rec.p.subject;
    await Promise.all([
      this.store.index(`sub:${sub}`, id, ttl),
      this.store.index(`sub:${sub}`, `t:${id}`, ttl),
      ...(idpSid
        ? [this.store.index(`sid:${idpSid}`, id, ttl), this.store.index(`sid:${idpSid}`, `t:${id}`, ttl)]
        : []),
    ]);
    return id;
  }

  /**
   * The live session named by `id`, or undefined (unknown, ended, expired or idle). Touches the
   * record when the last touch is older than the touch interval; refreshes tokens when due.
   */
  async load(id: string): Promise<SessionRecord | undefined> {
    const data = await this.store.get(id);
    if (!isRecord(data)) return undefined;
    const rec = data as SessionRecord;
    const now = Date.now();
    if (now >= rec.x) return this.#end(id, rec, 'expired');
    if (now - rec.s > this.times.idle) return this.#end(id, rec, 'idle');
    if (rec.r && rec.ae !== undefined && rec.ae - now <= this.#threshold(rec)) {
      const fresh = await this.#refreshOnce(id, rec);
      if (fresh === undefined) return undefined;
      return fresh;
    }
    if (now - rec.s >= this.touchInterval) {
      rec.s = now;
      await this.store.set(id, rec as unknown as SessionData, Math.min(rec.x - now, this.times.idle));
    }
    return rec;
  }

  /**
   * {@link load} without waiting, when nothing has to be written: the live session, or
   * `undefined` when only `load` can answer — the store cannot tell synchronously, or the
   * session is unknown, ended, due for a touch or a refresh (all of which `load` handles).
   */
  loadNow(id: string): SessionRecord | undefined {
    const data = this.store.peek?.(id);
    return isRecord(data) && this.#servesNow(data) ? data : undefined;
  }

  /**
   * The principal of {@link loadNow}, read from the store's shared copy when it keeps one: the
   * same principal object for every request until the record changes, so what is built once
   * per principal (audit members, identity header values) is built once per session.
   */
  principalNow(id: string): Principal | undefined {
    const store = this.store;
    if (store.peekShared === undefined) return this.loadNow(id)?.p;
    const data = store.peekShared(id) as SessionData | null | undefined;
    return isRecord(data) && this.#servesNow(data) ? data.p : undefined;
  }

  /** A live record that needs no write now: not ended, no touch and no refresh due. */
  #servesNow(rec: SessionRecord): boolean {
    const now = Date.now();
    if (now >= rec.x || now - rec.s > this.times.idle || now - rec.s >= this.touchInterval) return false;
    return !(rec.r && rec.ae !== undefined && rec.ae - now <= this.#threshold(rec));
  }

  /**
   * Records a request on a route-policy group (per-route idle timeouts), at most once per touch
   * interval of that group's timeout to keep store writes low.
   */
  async touchGroup(id: string, rec: SessionRecord, group: string, idle: number): Promise<void> {
    const now = Date.now();
    const last = rec.g?.[group];
    if (last !== undefined && now - last < Math.max(1000, Math.min(60_000, Math.floor(idle / 4)))) return;
    rec.g = { ...rec.g, [group]: now };
    await this.store.set(id, rec as unknown as SessionData, Math.min(rec.x - now, this.times.idle));
  }

  /** The session's current access and ID tokens (for routes that forward them upstream). */
  async tokens(
    id: string,
  ): Promise<{ accessToken?: string | undefined; idToken?: string | undefined } | undefined> {
    const t = await this.#readTokens(id);
    return t === undefined ? undefined : { accessToken: t.tokens.at, idToken: t.tokens.it };
  }

  /** Ends a session (logout): the id never works again. Returns its ID token for `id_token_hint`. */
  async destroy(
    id: string,
    reason: EndReason = 'logout',
  ): Promise<{ rec: SessionRecord | undefined; idToken: string | undefined }> {
    const data = await this.store.get(id);
    const rec = isRecord(data) ? (data as SessionRecord) : undefined;
    const tokens = rec ? await this.#readTokens(id) : undefined;
    await Promise.all([this.store.delete(id), this.store.delete(`t:${id}`)]);
    if (rec) this.events.ended?.(id, rec, reason);
    return { rec, idToken: tokens?.tokens.it };
  }

  /** Refresh threshold: `refresh_before`, but at most half the access token lifetime. */
  #threshold(rec: SessionRecord): number {
    return rec.al === undefined
      ? this.times.refreshBefore
      : Math.min(this.times.refreshBefore, Math.floor(rec.al / 2));
  }

  async #end(
    id: string,
    rec: SessionRecord | undefined,
    reason: EndReason,
    detail?: string,
  ): Promise<undefined> {
    await Promise.all([this.store.delete(id), this.store.delete(`t:${id}`)]);
    this.events.ended?.(id, rec, reason, detail);
    return undefined;
  }

  #refreshOnce(id: string, rec: SessionRecord): Promise<SessionRecord | undefined> {
    const until = this.#backoff.get(id);
    if (until !== undefined) {
      if (Date.now() < until) return Promise.resolve(rec);
      this.#backoff.delete(id);
    }
    let p = this.#inflight.get(id);
    if (p === undefined) {
      p = this.store
        .withLock(`refresh:${id}`, REFRESH_LOCK_TTL_MS, REFRESH_LOCK_WAIT_MS, () =>
          this.#refreshLocked(id, rec),
        )
        .finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, p);
    }
    return p;
  }

  /** Runs under the cross-instance lock: re-reads first, so a refresh done elsewhere is reused. */
  async #refreshLocked(id: string, stale: SessionRecord): Promise<SessionRecord | undefined> {
    const current = await this.store.get(id);
    if (!isRecord(current)) return undefined;
    const rec = current as SessionRecord;
    const stored = await this.#readTokens(id);
    if (stored === undefined)
      return this.#end(id, rec, 'refresh_failed', 'tokens record missing or sealed by a retired secret');
    const now = Date.now();
    if (stored.ae !== undefined && stored.ae - now > this.#threshold(rec)) {
      // Another request or instance refreshed already: adopt its result.
      if (rec.ae !== stored.ae) rec.ae = stored.ae;
      return rec;
    }
    const rt = stored.tokens.rt;
    if (rt === undefined) return rec;
    let ts: TokenSet;
    try {
      ts = await this.refresher.refresh(rt, rec.ln);
    } catch (e) {
      if (isGrantRejected(e)) return this.#end(id, rec, 'refresh_failed', describe(e));
      this.#backoff.set(id, now + REFRESH_BACKOFF_MS);
      if (this.#backoff.size > 10_000) this.#backoff.delete(this.#backoff.keys().next().value as string);
      this.logger.warn(
        { err: describe(e), session: stale.p.credentialId },
        'token refresh failed; keeping the session and retrying later',
      );
      if (isGatehouseError(e, 'GH_SESSION_STORE_UNAVAILABLE')) throw e;
      return rec;
    }
    if (ts.claims !== undefined && ts.claims.sub !== rec.p.subject) {
      return this.#end(id, rec, 'subject_changed', 'refreshed ID token names another subject');
    }
    const tokens: Tokens = {
      at: ts.accessToken ?? stored.tokens.at,
      rt: ts.refreshToken ?? rt,
      it: ts.idToken ?? stored.tokens.it,
    };
    const after = Date.now();
    await this.#writeTokens(id, tokens, ts.accessExpiresAt, rec.x - after);
    rec.ae = ts.accessExpiresAt;
    rec.al = ts.accessExpiresAt === undefined ? undefined : ts.accessExpiresAt - after;
    rec.r = tokens.rt !== undefined;
    rec.s = after;
    if (ts.claims !== undefined)
      rec.p = this.principalOf({ ...rec.p.claims, ...ts.claims }, id, rec.x, rec.ln);
    await this.store.set(id, rec as unknown as SessionData, Math.min(rec.x - after, this.times.idle));
    this.events.refreshed?.(id, rec);
    return rec;
  }

  async #writeTokens(id: string, tokens: Tokens, ae: number | undefined, ttlMs: number): Promise<void> {
    const sealed = await this.keys.seal(tokens, TOKENS_PURPOSE, Math.ceil(ttlMs / 1000) + 60);
    const rec: TokensRecord = { t: sealed, ae };
    await this.store.set(`t:${id}`, rec as unknown as SessionData, ttlMs);
  }

  async #readTokens(id: string): Promise<{ tokens: Tokens; ae: number | undefined } | undefined> {
    const d = await this.store.get(`t:${id}`);
    if (d === undefined || typeof d.t !== 'string') return undefined;
    const opened = await this.keys.open(d.t, TOKENS_PURPOSE);
    if (opened === undefined) return undefined;
    const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return {
      tokens: { at: s(opened.at), rt: s(opened.rt), it: s(opened.it) },
      ae: typeof d.ae === 'number' ? d.ae : undefined,
    };
  }
}
