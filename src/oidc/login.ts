import type { RequestContext } from '../pipeline/context.js';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import { clearCookie, cookieNamesWithPrefix, readCookie, serializeCookie } from './cookies.js';
import { addSetCookie, requireMethod, sendHtml, sendRedirect } from './http.js';
import { loginErrorPage } from './pages.js';
import { safeReturnTo } from './redirect.js';
import type { SessionRuntime } from './runtime.js';
import { STATE_TTL_SECONDS, stateId, type LoginAttempt, type StepUpRequest } from './state.js';
import { describe, toGatehouseError } from './client.js';
import { credentialId } from './principal.js';
import { sessionCookieId } from './session-cookie.js';
import type { LoginRuntime } from './logins.js';
import { loginStartUrl, sendChooser } from './chooser.js';
import { stepUpProblem } from './step-up.js';

/** More pending login attempts than this in one browser: older state cookies are cleared. */
const MAX_PENDING_ATTEMPTS = 6;

/**
 * True for a top-level browser navigation: GET/HEAD accepting text/html, not a fetch/XHR
 * (`Sec-Fetch-Mode` other than `navigate`, or `X-Requested-With`). Only these are redirected
 * to the identity provider; APIs and XHR get 401 and never a login page.
 */
export function isBrowserNavigation(ctx: RequestContext): boolean {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return false;
  const h = ctx.req.headers;
  const accept = h.accept;
  if (accept === undefined || !accept.includes('text/html')) return false;
  const mode = h['sec-fetch-mode'];
  if (mode !== undefined && mode !== 'navigate') return false;
  return h['x-requested-with'] === undefined;
}

/**
 * Starts an authorization code flow with PKCE (RFC 7636, S256), `state` and `nonce`: seals the
 * attempt into its own short-lived cookie and redirects to the IdP. `returnTo` must already be
 * validated. The redirect URI comes from `server.external_url`, never from request headers.
 * `prompt` is sent to the IdP when given (`select_account` for "Switch account").
 */
export async function startLogin(
  rt: SessionRuntime,
  ctx: RequestContext,
  returnTo: string,
  opts: {
    login?: LoginRuntime | undefined;
    stepUp?: StepUpRequest | undefined;
    prompt?: 'select_account' | 'login' | undefined;
  } = {},
): Promise<void> {
  const login = opts.login ?? rt.defaultLogin;
  await login.client.config();
  const stepUp = opts.stepUp;
  const a = await rt.states.create(returnTo, {
    login: login === rt.defaultLogin ? undefined : login.name,
    stepUp,
  });
  const params: Record<string, string> = { ...login.cfg.extra_auth_params };
  if (opts.prompt !== undefined) params.prompt = opts.prompt;
  if (stepUp !== undefined) {
    // Step-up (OIDC Core §3.1.2.1): authenticate again, recently enough, at the required level.
    params.prompt = 'login';
    if (stepUp.maxAge !== undefined) params.max_age = String(stepUp.maxAge);
    if (stepUp.acr !== undefined) params.acr_values = stepUp.acr.join(' ');
    ctx.reasons.push('login.step_up');
  }
  const url = await login.client.authorizationUrl({
    ...params,
    redirect_uri: rt.redirectUri,
    scope: login.cfg.scopes.join(' '),
    state: a.state,
    nonce: a.nonce,
    code_challenge: a.codeChallenge,
    code_challenge_method: 'S256',
  });
  const pending = cookieNamesWithPrefix(ctx.req.headers.cookie, rt.statePrefix);
  if (pending.length >= MAX_PENDING_ATTEMPTS)
    for (const n of pending) addSetCookie(ctx, clearCookie(n, rt.secure));
  addSetCookie(
    ctx,
    serializeCookie(a.cookieName, a.cookieValue, { secure: rt.secure, maxAge: STATE_TTL_SECONDS }),
  );
  ctx.reasons.push('login.redirect');
  sendRedirect(ctx, url.href);
}

/**
 * `/.gatehouse/login?rd=<target>[&login=<name>][&prompt=select_account|login]`
 * (`session.paths.start`): starts a login that returns to `rd` when it is safe, else `/`. With
 * several logins and no (known) `login`, shows the chooser. `prompt` (OIDC Core §3.1.2.1) asks
 * the IdP to let the user pick another account ("Switch account" on the refusal page) or to
 * sign in again. Other prompt values are ignored.
 */
export async function handleLoginEndpoint(rt: SessionRuntime, ctx: RequestContext): Promise<void> {
  requireMethod(ctx, ['GET', 'HEAD']);
  const q = new URLSearchParams(ctx.query.slice(1));
  const returnTo = safeReturnTo(q.get('rd') ?? undefined, rt.returnTo) ?? '/';
  const p = q.get('prompt');
  const prompt = p === 'select_account' || p === 'login' ? p : undefined;
  const name = q.get('login');
  const login = name !== null ? rt.logins.get(name) : rt.logins.size === 1 ? rt.defaultLogin : undefined;
  if (login === undefined) return sendChooser(rt, ctx, [...rt.logins.values()], returnTo);
  await startLogin(rt, ctx, returnTo, { login, prompt });
}

/** Marks a state as used; a second callback with it (replay, or a concurrent duplicate) fails. */
async function consumeState(rt: SessionRuntime, state: string): Promise<void> {
  const key = `used-state:${stateId(state)}`;
  try {
    await rt.store.withLock(key, 30_000, 0, async () => {
      if ((await rt.store.get(key)) !== undefined)
        throw new GatehouseError('GH_LOGIN_STATE_REPLAYED', 'state already used');
      await rt.store.set(key, { used: Date.now() }, STATE_TTL_SECONDS * 1000);
    });
  } catch (e) {
    if (isGatehouseError(e, 'GH_SESSION_LOCK_TIMEOUT'))
      throw new GatehouseError('GH_LOGIN_STATE_REPLAYED', 'concurrent callback for the same state');
    throw e;
  }
}

/**
 * `/.gatehouse/callback`: validates the authorization response against the attempt sealed in
 * its state cookie (single-use), redeems the code, and creates a new server-side session (a
 * fresh id every time: no fixation). Any failure shows an error page, is audited as
 * `login.failed`, and creates no session.
 */
export async function handleCallback(rt: SessionRuntime, ctx: RequestContext): Promise<void> {
  requireMethod(ctx, ['GET']);
  const params = new URLSearchParams(ctx.query.slice(1));
  const cookieHeader = ctx.req.headers.cookie;
  const state = params.get('state');
  let attempt: LoginAttempt | undefined;
  let login: LoginRuntime | undefined;
  try {
    let cookie: string | undefined;
    if (state) {
      const name = rt.states.cookieName(state);
      cookie = readCookie(cookieHeader, name);
      if (cookie !== undefined) addSetCookie(ctx, clearCookie(name, rt.secure));
    }
    const idpError = params.get('error');
    if (idpError !== null) {
      const desc = params.get('error_description');
      throw new GatehouseError('GH_LOGIN_IDP_ERROR', `${idpError}${desc ? `: ${desc}` : ''}`, {
        reasons: ['GH_LOGIN_IDP_ERROR', `oauth.${idpError.slice(0, 64)}`],
      });
    }
    if (!state) throw new GatehouseError('GH_LOGIN_STATE_MISSING', 'callback without a state parameter');
    if (cookie === undefined)
      throw new GatehouseError(
        'GH_LOGIN_STATE_MISSING',
        'no login state cookie for this state (expired, other browser, or cookies blocked)',
      );
    attempt = await rt.states.open(cookie, state);
    login = attempt.login === undefined ? rt.defaultLogin : rt.logins.get(attempt.login);
    if (login === undefined)
      throw new GatehouseError('GH_LOGIN_STATE_INVALID', `login "${attempt.login}" is no longer configured`);
    await consumeState(rt, state);
    const callbackUrl = new URL(rt.redirectUri);
    callbackUrl.search = ctx.query;
    const tokens = await login.client.exchangeCode(callbackUrl, attempt);
    let claims: Record<string, unknown> = { ...(tokens.claims ?? {}) };
    const sub = claims.sub;
    if (typeof sub !== 'string' || sub === '')
      throw new GatehouseError('GH_LOGIN_ID_TOKEN_INVALID', 'ID token without sub');
    if (login.cfg.userinfo && tokens.accessToken !== undefined) {
      const info = await login.client.userInfo(tokens.accessToken, sub);
      claims = { ...info, ...claims };
    }
    if (attempt.stepUp !== undefined) {
      const problem = stepUpProblem(attempt.stepUp, claims, Date.now());
      // The old session stays as it was: it still serves routes without this requirement.
      if (problem !== undefined) throw new GatehouseError('GH_SESSION_STEP_UP_FAILED', problem);
    }
    const previous = sessionCookieId(rt, ctx);
    if (previous !== undefined && previous !== '')
      await rt.sessions.destroy(previous, 'logout').catch(() => undefined);
    const id = await rt.sessions.create(
      claims,
      tokens,
      typeof claims.sid === 'string' ? claims.sid : undefined,
      login === rt.defaultLogin ? undefined : login.name,
    );
    addSetCookie(
      ctx,
      serializeCookie(rt.cookieName, id, {
        secure: rt.secure,
        domain: rt.cookieDomain,
        maxAge: Math.floor(rt.cfg.absolute_lifetime / 1000),
      }),
    );
    ctx.reasons.push('login.success');
    rt.audit(ctx, {
      type: 'login',
      decision: 'allow',
      status: 302,
      subject: sub,
      provider: login.provider,
      credential_id: credentialId(id),
      reasons: attempt.stepUp !== undefined ? ['login.success', 'login.step_up'] : ['login.success'],
    });
    sendRedirect(ctx, attempt.returnTo);
  } catch (e) {
    const err = toGatehouseError(e, 'login');
    for (const r of err.reasons) if (!ctx.reasons.includes(r)) ctx.reasons.push(r);
    rt.audit(ctx, {
      type: 'login.failed',
      decision: 'deny',
      status: err.status,
      error: err.code,
      reasons: err.reasons,
      ...(login !== undefined ? { provider: login.provider } : {}),
      detail: err.detail ?? describe(e),
    });
    rt.logger.info({ req_id: ctx.id, error: err.code, detail: err.detail }, 'login failed');
    if (
      err.status >= 500 &&
      err.code !== 'GH_LOGIN_IDP_UNAVAILABLE' &&
      err.code !== 'GH_LOGIN_CODE_EXCHANGE_FAILED'
    )
      throw err;
    const back = attempt?.returnTo ?? '/';
    const retry =
      login !== undefined
        ? loginStartUrl(rt, login, back)
        : `${rt.paths.start}?rd=${encodeURIComponent(back)}`;
    sendHtml(ctx, err.status, loginErrorPage(err, ctx.id, retry, rt.pages));
  }
}
