import type { ErrorEntry } from './entry.js';

/** Error codes of the session area. */
export const sessionCodes = {
  GH_SESSION_STORE_UNAVAILABLE: {
    status: 503,
    message: 'The session store is unavailable.',
    meaning:
      'The session store (Redis) could not be reached or did not answer in time. Gatehouse fails closed: the request is refused rather than treated as logged out or left hanging. Check session.redis.url and the Redis server.',
  },
  GH_SESSION_LOCK_TIMEOUT: {
    status: 503,
    message: 'The session is busy; please retry.',
    meaning:
      'Another request (possibly on another Gatehouse instance) held the per-session lock, for example while refreshing tokens, for longer than the wait limit.',
  },
  GH_SESSION_REQUIRED: {
    status: 401,
    message: 'Sign-in required.',
    meaning:
      'The request needs a Gatehouse browser session (for example /.gatehouse/userinfo) and carried no valid session cookie: never signed in, logged out, or the session expired (absolute lifetime or idle timeout) or was ended by the identity provider.',
  },
  GH_SESSION_COOKIE_AMBIGUOUS: {
    status: 401,
    message: 'Sign-in required.',
    meaning:
      'The request carried the session cookie more than once (for example a host cookie and a parent-domain cookie planted by a sibling subdomain, or an old path-scoped copy). Gatehouse never picks one ("first wins" would let the planted one decide): the request has no session, every copy is cleared with Set-Cookie (host-only and parent domains, each ancestor path), and a `session.cookie_ambiguous` audit event is written. The browser signs in again.',
  },
  GH_SESSION_LOGIN_NOT_ACCEPTED: {
    status: 401,
    message: 'Sign in with another account to continue.',
    meaning:
      'The request carried a live session from a login this route does not accept (route `login:` names other session.login/session.logins entries, e.g. a partners session on a staff-only app). A browser navigation is sent to the accepted login (or the chooser); other requests get 401. The session itself stays valid for routes that accept its login.',
  },
  GH_SESSION_STEP_UP_REQUIRED: {
    status: 401,
    message: 'This page needs a fresh or stronger sign-in.',
    meaning:
      'The session does not meet this route\'s step-up policy (route `session.max_auth_age`, `require_acr`, `require_amr`): the sign-in is too old or was not done with the required authentication level or methods. A browser navigation goes back through the IdP with prompt=login and max_age / acr_values; other requests get 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication"` and the required `acr_values` / `max_age` (RFC 9470).',
  },
  GH_SESSION_STEP_UP_FAILED: {
    status: 403,
    message: 'The sign-in did not meet the level this page requires.',
    meaning:
      'A step-up login came back with an ID token that still does not satisfy the route: `auth_time` older than the requested max_age (or missing), `acr` not one of the requested values, or `amr` without a required method (OIDC Core §2, §3.1.2.1). Check the IdP enforces the requested acr_values (for example a conditional-access / MFA policy). The previous session is kept for routes without this requirement; the audit event carries the detail.',
  },
  GH_SESSION_ROUTE_EXPIRED: {
    status: 401,
    message: 'Your session for this application has expired. Please sign in again.',
    meaning:
      "The session is older than this route's `session.absolute_lifetime`, or was idle on the route's group for longer than its `session.idle_timeout` (tighter than the global session lifetimes). A browser navigation signs in again; other requests get 401. The session stays valid for routes with the global lifetimes.",
  },
  GH_LOGIN_STATE_MISSING: {
    status: 400,
    message: 'This sign-in attempt is unknown or has expired. Please sign in again.',
    meaning:
      'The login callback arrived without a `state` parameter or without the matching short-lived state cookie: the attempt took longer than 10 minutes, cookies are blocked, the callback URL was opened in another browser, or someone replayed a callback link. No session is created.',
  },
  GH_LOGIN_STATE_INVALID: {
    status: 400,
    message: 'This sign-in attempt could not be verified. Please sign in again.',
    meaning:
      'The login state cookie could not be decrypted or does not match the `state` parameter (tampering, or the secret that sealed it was removed from session.secrets). No session is created.',
  },
  GH_LOGIN_STATE_REPLAYED: {
    status: 400,
    message: 'This sign-in link was already used. Please sign in again.',
    meaning:
      'The login callback for this `state` was already processed once; each login attempt is single-use, so a replayed callback never creates a session.',
  },
  GH_LOGIN_IDP_ERROR: {
    status: 401,
    message: 'The identity provider did not sign you in.',
    meaning:
      'The identity provider answered the login with an OAuth `error` (for example access_denied when the user cancelled or is not assigned to the application, or invalid_scope). The audit event carries the error code and description.',
  },
  GH_LOGIN_ID_TOKEN_INVALID: {
    status: 401,
    message: 'The sign-in response could not be verified.',
    meaning:
      'The ID token or authorization response failed validation: wrong issuer (`iss`), audience (`aud`) not the configured client_id, nonce mismatch, bad signature, or expired. Check session.login.provider and session.login.client_id against the identity provider.',
  },
  GH_LOGIN_CODE_EXCHANGE_FAILED: {
    status: 502,
    message: 'The identity provider refused to complete the sign-in.',
    meaning:
      'The token endpoint rejected the authorization code exchange (invalid_client: wrong client_secret or token_endpoint_auth_method; invalid_grant: code expired, already used, or redirect URI mismatch). The audit event carries the OAuth error.',
  },
  GH_LOGIN_IDP_UNAVAILABLE: {
    status: 503,
    message: 'The identity provider is unavailable; please retry shortly.',
    meaning:
      'OpenID Connect discovery has not succeeded yet, or the identity provider did not answer (network error, timeout, 5xx). Existing sessions keep working; new sign-ins wait for the provider.',
  },
  GH_BACKCHANNEL_LOGOUT_INVALID: {
    status: 400,
    message: 'Invalid logout token.',
    meaning:
      'A back-channel logout request (OpenID Connect Back-Channel Logout 1.0 §2.6) carried no logout_token, or the token failed validation: signature against the provider JWKS, issuer, audience, iat, the back-channel `events` member, `sid`/`sub` presence, or it contained a `nonce`.',
  },
  GH_SSO_REQUEST_INVALID: {
    status: 400,
    message: 'This sign-in request is invalid or has expired. Please go back to the application.',
    meaning:
      'The login host received /.gatehouse/sso/start without a valid sealed request: missing, tampered with, older than 10 minutes, sealed with a secret no longer in session.secrets, for an app host that is not (or no longer) in session.sso.hosts, or sent to a host that is not the login host. No handoff is issued.',
  },
  GH_SSO_HANDOFF_INVALID: {
    status: 400,
    message: 'This sign-in link is invalid. Please sign in again.',
    meaning:
      'An app host received /.gatehouse/sso/handoff with a code that is missing, malformed or whose signature does not verify against session.secrets (tampered with, or forged). Nothing is looked up in the session store and no session is created.',
  },
  GH_SSO_HANDOFF_EXPIRED: {
    status: 400,
    message: 'This sign-in link has expired. Please sign in again.',
    meaning:
      'The handoff code is older than session.sso.handoff_ttl (at most 60 s): handoff codes only have to survive one redirect from the login host to the app host. No session is created.',
  },
  GH_SSO_HANDOFF_REPLAYED: {
    status: 400,
    message: 'This sign-in link was already used. Please sign in again.',
    meaning:
      'The handoff code was already redeemed (each code is single-use, taken atomically from the shared session store, so also across Gatehouse instances), or its record was lost because the session store was emptied. A replayed handoff URL from history, logs or a Referer never creates a session.',
  },
  GH_SSO_HANDOFF_WRONG_HOST: {
    status: 400,
    message: 'This sign-in link belongs to another application.',
    meaning:
      'The handoff code was issued for another app host than the one it was presented to (or presented at a host that is not in session.sso.hosts). The code is consumed and no session is created.',
  },
  GH_SSO_HANDOFF_UNBOUND: {
    status: 400,
    message: 'This sign-in link was started in another browser. Please sign in again.',
    meaning:
      'The handoff code is bound to a short-lived nonce cookie set on the app host when the sign-in started; the browser presenting the code did not send that cookie (another browser, cookies blocked, or the attempt is older than 10 minutes). The code is consumed and no session is created.',
  },
  GH_SSO_SESSION_ENDED: {
    status: 401,
    message: 'Your session has ended. Please sign in again.',
    meaning:
      'The handoff code was valid but the global session it refers to has ended in the meantime (logout on any host, back-channel logout from the identity provider, expiry). No host session is created.',
  },
} as const satisfies Record<string, ErrorEntry>;
