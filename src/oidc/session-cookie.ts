import type { RequestContext } from '../pipeline/context.js';
import { clearCookieVariants, cookieValues } from './cookies.js';
import { addSetCookie } from './http.js';
import type { SessionRuntime } from './runtime.js';

/** `ctx.extra` marker: the ambiguous session cookie of this request was already handled. */
const AMBIGUOUS = 'session.cookieAmbiguous';

/** Reason code (request audit and the `session.cookie_ambiguous` event) for duplicate session cookies. */
export const REASON_COOKIE_AMBIGUOUS = 'session.cookie_ambiguous';

/**
 * The session id named by this request's session cookie, or undefined. Exactly one cookie with
 * the session name must be present: two or more (a host cookie and a parent-domain cookie a
 * sibling subdomain planted, or a stale path cookie) make the request ambiguous, never "first
 * wins": no session, every copy the browser may hold is cleared (host-only and parent domains,
 * each ancestor path), and a `session.cookie_ambiguous` event is audited (once per request).
 */
export function sessionCookieId(rt: SessionRuntime, ctx: RequestContext): string | undefined {
  const values = cookieValues(ctx.req.headers.cookie, rt.cookieName);
  if (values.length <= 1) return values[0];
  if (ctx.extra[AMBIGUOUS] === true) return undefined;
  ctx.extra[AMBIGUOUS] = true;
  for (const c of clearCookieVariants(rt.cookieName, ctx.host, ctx.path, rt.secure)) addSetCookie(ctx, c);
  ctx.reasons.push(REASON_COOKIE_AMBIGUOUS);
  rt.audit(ctx, {
    type: 'session.cookie_ambiguous',
    decision: 'deny',
    status: 401,
    error: 'GH_SESSION_COOKIE_AMBIGUOUS',
    reasons: [REASON_COOKIE_AMBIGUOUS],
    detail: `${values.length} cookies named ${rt.cookieName}: none is used, all are cleared`,
  });
  return undefined;
}
