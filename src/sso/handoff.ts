/**
 * The signed, single-use, short-lived handoff that carries a sign-in from the login host to an
 * app host without ever putting a session id or token in a URL.
 *
 * 1. App host A, no session: a per-attempt nonce cookie is set on A (host-only) and the browser
 *    goes to the login host with a *sealed* request {A's origin, return URL, sha256(nonce), id}.
 * 2. Login host, with its own session: stores a handoff record (random id → global session id,
 *    A's origin, nonce hash, return URL) for at most 60 s and redirects to A with a code that
 *    names the record and is HMAC-signed with its expiry.
 * 3. A redeems the code server-side: signature, expiry, atomic single-use take from the session
 *    store (shared by every instance), host binding and nonce-cookie binding, in that order.
 *
 * The nonce cookie binds the code to the browser that started the attempt (like PKCE binds an
 * authorization code, RFC 7636 §1): a code leaked from a URL (history, Referer, logs) is
 * useless in another browser and after its first use.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatehouseError } from '../errors/index.js';
import type { KeyRing } from '../session/keyring.js';
import type { StepUpRequest } from '../oidc/state.js';
import type { SessionData, SessionStore } from '../session/store.js';

const REQUEST_PURPOSE = 'gatehouse.sso-request.v1';
/** A sealed start request (and its nonce cookie) lives as long as a login attempt may take. */
export const REQUEST_TTL_SECONDS = 600;
/** Store key prefix of handoff records (never a valid session id: ids have no colon). */
const RECORD_PREFIX = 'sso-h:';
/** A code is `<id>.<exp>.<tag>`: 43 + up to 12 + 43 characters of base64url and digits. */
const CODE = /^([A-Za-z0-9_-]{43})\.(\d{1,12})\.[A-Za-z0-9_-]{43}$/;

/** What an app host asks the login host for (sealed into the `request` parameter). */
export interface HandoffRequest {
  /** Configured origin of the app host that asked. */
  readonly origin: string;
  /** Validated absolute URL on that origin to land on after the handoff. */
  readonly returnTo: string;
  /** base64url SHA-256 of the nonce in the app host's cookie. */
  readonly nonceHash: string;
  /** Names the nonce cookie (`<state prefix>sso-<rid>`), so parallel tabs do not collide. */
  readonly rid: string;
  /** What the app host's route needs of the session (see {@link HandoffNeed}). */
  readonly need?: HandoffNeed | undefined;
}

/**
 * What the route on the app host needs, so that the login host signs in again instead of
 * handing over a session the route would refuse (which would loop): the logins it accepts, a
 * step-up, and the global session it already refused (by hash), which can therefore never be
 * handed over again — only a session created by the new sign-in can.
 */
export interface HandoffNeed {
  /** Names of the logins the route accepts (a chooser when several); undefined: any. */
  readonly logins?: readonly string[] | undefined;
  readonly stepUp?: StepUpRequest | undefined;
  /** base64url SHA-256 of the global session id the route refused. */
  readonly refused?: string | undefined;
}

/** The server-side handoff record. */
export interface HandoffRecord extends HandoffRequest {
  /** The global session (the login host's session id). */
  readonly globalId: string;
}

/** A fresh attempt on an app host: the nonce for its cookie and the fields to seal. */
export interface NewAttempt {
  readonly rid: string;
  readonly nonce: string;
  readonly nonceHash: string;
}

/** base64url SHA-256. */
export function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce).digest('base64url');
}

/** A new attempt: 96-bit cookie-name id and 256-bit nonce. */
export function newAttempt(): NewAttempt {
  const nonce = randomBytes(32).toString('base64url');
  return { rid: randomBytes(12).toString('base64url'), nonce, nonceHash: hashNonce(nonce) };
}

/** Seals a start request (JWE with the key ring, purpose-bound, expiring). */
export function sealRequest(keys: KeyRing, req: HandoffRequest): Promise<string> {
  return keys.seal(
    { o: req.origin, r: req.returnTo, n: req.nonceHash, i: req.rid, ...(req.need ? { d: req.need } : {}) },
    REQUEST_PURPOSE,
    REQUEST_TTL_SECONDS,
  );
}

/** Opens a sealed start request; `GH_SSO_REQUEST_INVALID` when tampered, expired or malformed. */
export async function openRequest(keys: KeyRing, sealed: string | null): Promise<HandoffRequest> {
  const p = sealed ? await keys.open(sealed, REQUEST_PURPOSE) : undefined;
  if (
    p === undefined ||
    typeof p.o !== 'string' ||
    typeof p.r !== 'string' ||
    typeof p.n !== 'string' ||
    typeof p.i !== 'string'
  )
    throw new GatehouseError(
      'GH_SSO_REQUEST_INVALID',
      sealed
        ? 'sso start request does not open (tampered, expired or sealed with a retired secret)'
        : 'no request parameter',
    );
  const need = p.d !== null && typeof p.d === 'object' ? (p.d as HandoffNeed) : undefined;
  return { origin: p.o, returnTo: p.r, nonceHash: p.n, rid: p.i, need };
}

/**
 * Issues and redeems handoff codes. Records live in the session store, so a code issued by
 * one Gatehouse instance is redeemed at another; `take` makes redemption single-use across all.
 */
export class Handoffs {
  constructor(
    private readonly store: SessionStore,
    private readonly keys: KeyRing,
    private readonly ttlMs: number,
  ) {}

  /** Stores a record for `rec` and returns its signed code. */
  async issue(rec: HandoffRecord): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const exp = Math.floor((Date.now() + this.ttlMs) / 1000);
    const data: SessionData = {
      g: rec.globalId,
      o: rec.origin,
      r: rec.returnTo,
      n: rec.nonceHash,
      i: rec.rid,
    };
    await this.store.set(RECORD_PREFIX + id, data, this.ttlMs);
    return this.keys.sign(`${id}.${exp}`);
  }

  /**
   * Redeems `code` at the app host `origin` for the browser whose nonce cookie is looked up by
   * `nonceOf(rid)`. Refusals, each a distinct code: `GH_SSO_HANDOFF_INVALID` (malformed or bad
   * signature), `GH_SSO_HANDOFF_EXPIRED`, `GH_SSO_HANDOFF_REPLAYED` (already redeemed, here or
   * on another instance), `GH_SSO_HANDOFF_WRONG_HOST`, `GH_SSO_HANDOFF_UNBOUND` (not the
   * browser that asked). A refused code is consumed: it never works afterwards either.
   */
  async redeem(
    code: string | null,
    origin: string,
    nonceOf: (rid: string) => string | undefined,
  ): Promise<HandoffRecord> {
    const m = code === null ? null : CODE.exec(code);
    if (m === null || this.keys.verify(code as string) === undefined)
      throw new GatehouseError(
        'GH_SSO_HANDOFF_INVALID',
        code === null ? 'no code parameter' : 'code malformed or signature invalid',
      );
    const id = m[1] as string;
    if (Number(m[2]) * 1000 <= Date.now()) {
      await this.store.delete(RECORD_PREFIX + id);
      throw new GatehouseError('GH_SSO_HANDOFF_EXPIRED', 'handoff code expired');
    }
    const d = await this.store.take(RECORD_PREFIX + id);
    if (d === undefined)
      throw new GatehouseError(
        'GH_SSO_HANDOFF_REPLAYED',
        'handoff code already redeemed (or its record was lost)',
      );
    const rec = toRecord(d);
    if (rec === undefined) throw new GatehouseError('GH_SSO_HANDOFF_INVALID', 'unreadable handoff record');
    if (rec.origin !== origin)
      throw new GatehouseError(
        'GH_SSO_HANDOFF_WRONG_HOST',
        `code issued for ${rec.origin}, redeemed at ${origin}`,
      );
    const nonce = nonceOf(rec.rid);
    if (nonce === undefined || !sameHash(hashNonce(nonce), rec.nonceHash))
      throw new GatehouseError(
        'GH_SSO_HANDOFF_UNBOUND',
        nonce === undefined
          ? 'no nonce cookie for this handoff (other browser, or cookies blocked)'
          : 'nonce cookie does not match',
      );
    return rec;
  }
}

function toRecord(d: SessionData): HandoffRecord | undefined {
  const { g, o, r, n, i } = d;
  if (
    typeof g !== 'string' ||
    typeof o !== 'string' ||
    typeof r !== 'string' ||
    typeof n !== 'string' ||
    typeof i !== 'string'
  )
    return undefined;
  return { globalId: g, origin: o, returnTo: r, nonceHash: n, rid: i };
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
