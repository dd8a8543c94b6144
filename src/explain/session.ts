import { GatehouseError, isGatehouseError } from '../errors/index.js';
import { silentLogger } from '../log/logger.js';
import type { TraceEntry } from '../pipeline/decision.js';
import type { Principal } from '../pipeline/principal.js';
import type { SessionRuntime } from '../oidc/runtime.js';
import type { SessionStore } from '../session/store.js';
import { createSessionStore, storeConfigOf } from '../session/create-store.js';

/** Session ids are 32 random bytes in base64url (see `newSessionId`). */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** What the caller gave: a `Cookie` header (`name=value; …`) or a bare session id. */
export type SessionInput = { readonly cookie: string } | { readonly sessionId: string };

/**
 * Result of {@link explainSession}: the checks, and the principal; `unknown` when the cookie names
 * no live session (the gateway then treats the request as carrying no identity, reason
 * `session.unknown`); `error` when the store cannot be read.
 */
export interface SessionExplanation {
  readonly checks: TraceEntry[];
  readonly principal?: Principal;
  readonly unknown?: boolean;
  readonly error?: GatehouseError;
}

const ago = (ms: number): string => {
  const s = Math.round(Math.abs(ms) / 1000);
  const t = s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
  return t;
};

function cookiesNamed(header: string, name: string): string[] {
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * Opens the configured session store for reading: Redis as configured. The memory store lives
 * inside the running Gatehouse process, so another process (this command) cannot see its
 * sessions: `GH_EXPLAIN_SESSION_STORE_MEMORY`.
 */
export function openSessionStore(rt: SessionRuntime): SessionStore {
  const cfg = rt.cfg;
  if (cfg.store !== 'redis' || cfg.redis === undefined)
    throw new GatehouseError(
      'GH_EXPLAIN_SESSION_STORE_MEMORY',
      'session.store is "memory": sessions live inside the running Gatehouse process and no other process can read them; use store: redis to explain sessions',
    );
  // One read: no near cache, so no subscriber connection is opened for it.
  const sc = storeConfigOf(cfg);
  return createSessionStore(sc.store === 'redis' ? { ...sc, nearCache: false } : sc, silentLogger());
}

/**
 * Evaluates a session cookie like the `session` authenticator does — the cookie name, the id
 * shape, the record in the store, absolute lifetime, idle timeout, token refresh — but read-only:
 * the session is never touched, refreshed or ended. `now` is epoch milliseconds.
 */
export async function explainSession(
  rt: SessionRuntime,
  store: SessionStore,
  input: SessionInput,
  now = Date.now(),
): Promise<SessionExplanation> {
  const checks: TraceEntry[] = [];
  const fail = (check: string, detail: string): SessionExplanation => {
    checks.push({ check, pass: false, detail });
    return { checks, unknown: true };
  };
  let id: string;
  if ('cookie' in input) {
    const values = cookiesNamed(input.cookie, rt.cookieName);
    if (values.length === 0)
      return fail('session cookie', `no cookie named ${rt.cookieName} (the configured session cookie)`);
    if (values.length > 1)
      return fail(
        'session cookie',
        `${values.length} cookies named ${rt.cookieName}: ambiguous, none is used`,
      );
    id = values[0] as string;
    checks.push({ check: 'session cookie', pass: true, detail: `${rt.cookieName} present` });
  } else id = input.sessionId;
  if (!SESSION_ID.test(id)) return fail('session id', 'not a session id (43 base64url characters)');
  checks.push({ check: 'session id', pass: true, detail: 'well-formed' });
  let data: Record<string, unknown> | undefined;
  try {
    data = (await store.get(id)) as Record<string, unknown> | undefined;
  } catch (e) {
    if (!isGatehouseError(e)) throw e;
    checks.push({ check: 'session store', pass: false, detail: `${e.code}: ${e.detail ?? e.message}` });
    return { checks, error: e };
  }
  if (data === undefined)
    return fail(
      `session store (${store.kind})`,
      'no session with this id: never created, signed out, ended by the IdP, or expired and deleted',
    );
  const p = data.p as Principal | undefined;
  const x = data.x;
  const s = data.s;
  if (data.v !== 1 || typeof x !== 'number' || typeof s !== 'number' || typeof p !== 'object' || p === null)
    return fail(`session store (${store.kind})`, 'the record is not a session of this Gatehouse version');
  checks.push({
    check: `session store (${store.kind})`,
    pass: true,
    detail: `found, created ${ago(now - Number(data.c))} ago`,
  });
  if (now >= x) return fail('absolute lifetime', `ended ${ago(now - x)} ago (session.absolute_lifetime)`);
  checks.push({ check: 'absolute lifetime', pass: true, detail: `ends in ${ago(x - now)}` });
  const idle = rt.cfg.idle_timeout;
  if (now - s > idle)
    return fail('idle timeout', `last seen ${ago(now - s)} ago, over session.idle_timeout (${ago(idle)})`);
  checks.push({
    check: 'idle timeout',
    pass: true,
    detail: `last seen ${ago(now - s)} ago (limit ${ago(idle)})`,
  });
  const ae = data.ae;
  if (typeof ae === 'number') {
    const due = data.r === true && ae - now <= rt.cfg.refresh_before;
    checks.push({
      check: 'access token',
      pass: ae > now || data.r === true,
      detail: `${ae > now ? `expires in ${ago(ae - now)}` : `expired ${ago(now - ae)} ago`}${due ? '; the next request refreshes it' : data.r === true ? '' : '; no refresh token'}`,
    });
  }
  checks.push({ check: 'principal', pass: true, detail: `${p.subject} (${p.kind}, session)` });
  return { checks, principal: p };
}
