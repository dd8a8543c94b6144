/**
 * Gatehouse's own cookies in upstream responses. An upstream that sets, overwrites or clears the
 * session cookie or a login-state cookie could fixate a session or log a user out of every app
 * (cookies are per host, not per app), so such `Set-Cookie` lines are dropped and audited.
 */
import type { OwnCookies, RouteStages } from '../pipeline/route.js';
import type { RequestContext } from '../pipeline/context.js';

/**
 * Name prefixes (lower-case) reserved for Gatehouse whatever the configuration: its default
 * session and state cookie names, with and without the `__Host-` / `__Secure-` prefixes.
 */
export const RESERVED_COOKIE_PREFIXES: readonly string[] = Object.freeze([
  'gatehouse',
  'gh-',
  '__host-gatehouse',
  '__host-gh-',
  '__secure-gatehouse',
  '__secure-gh-',
]);

/** The route's {@link OwnCookies}: what its features set plus the reserved prefixes. */
export function ownCookies(stages: Pick<RouteStages, 'ownCookieNames' | 'ownCookiePrefixes'>): OwnCookies {
  const prefixes = [...RESERVED_COOKIE_PREFIXES];
  for (const p of stages.ownCookiePrefixes) {
    const lower = p.toLowerCase();
    if (!prefixes.some((q) => lower.startsWith(q))) prefixes.push(lower);
  }
  return Object.freeze({ names: new Set(stages.ownCookieNames), prefixes: Object.freeze(prefixes) });
}

/**
 * The cookie name of a `Set-Cookie` value (RFC 6265 §5.2: the text before the first `=` of the
 * first `;`-separated part, whitespace-trimmed); the whole part when it has no `=` (browsers
 * treat a nameless cookie's value as matching such a name, so it is checked too).
 */
export function setCookieName(value: string): string {
  const semi = value.indexOf(';');
  const pair = semi === -1 ? value : value.slice(0, semi);
  const eq = pair.indexOf('=');
  return (eq === -1 ? pair : pair.slice(0, eq)).trim();
}

function ownName(name: string, own: OwnCookies): boolean {
  if (own.names.has(name)) return true;
  const lower = name.toLowerCase();
  for (let i = 0; i < own.prefixes.length; i++) if (lower.startsWith(own.prefixes[i] as string)) return true;
  return false;
}

/**
 * True when a `Set-Cookie` value names one of Gatehouse's own cookies, also through a nameless
 * cookie (`=gatehouse_session=x`), which browsers send back as `gatehouse_session=x`.
 */
export function isOwnCookie(value: string, own: OwnCookies): boolean {
  const name = setCookieName(value);
  if (name !== '') return ownName(name, own);
  const eq = value.indexOf('=');
  return eq !== -1 && ownName(setCookieName(value.slice(eq + 1)), own);
}

/**
 * Records a dropped upstream `Set-Cookie` for the audit event: the cookie name only, never its
 * value (`=name` for a nameless cookie that spells one of Gatehouse's names in its value).
 */
export function noteDroppedCookie(ctx: RequestContext, value: string): void {
  let name = setCookieName(value);
  if (name === '') name = `=${setCookieName(value.slice(value.indexOf('=') + 1))}`;
  const list = ctx.extra.droppedCookies as string[] | undefined;
  if (list === undefined) {
    ctx.extra.droppedCookies = [name];
    ctx.reasons.push('response.cookie.dropped');
  } else list.push(name);
}
