import type { GatehouseError } from '../errors/index.js';
import { renderPage, type PageSet } from '../pages/index.js';

const HINTS: Partial<Record<string, string>> = {
  GH_LOGIN_STATE_MISSING:
    'Sign-in attempts expire after 10 minutes and only work in the browser that started them. Make sure cookies are allowed for this site.',
  GH_LOGIN_STATE_INVALID: 'The sign-in attempt was altered or started before a configuration change.',
  GH_LOGIN_STATE_REPLAYED:
    'Each sign-in link works once. Using the back button after signing in can cause this.',
  GH_LOGIN_IDP_ERROR:
    'Your identity provider refused the sign-in, for example because you cancelled it or are not assigned to this application.',
  GH_LOGIN_ID_TOKEN_INVALID:
    'The answer of the identity provider did not pass verification. Your administrator can find the reason in the audit log.',
  GH_LOGIN_CODE_EXCHANGE_FAILED:
    'The identity provider did not accept Gatehouse’s request. Your administrator can find the reason in the audit log.',
  GH_SESSION_STEP_UP_FAILED:
    'This page needs a recent sign-in with a stronger method (for example multi-factor authentication). Sign in again and complete every step your identity provider asks for.',
  GH_LOGIN_IDP_UNAVAILABLE: 'The identity provider could not be reached. Try again in a moment.',
};

/**
 * The page a browser sees when a sign-in fails: the `error` page template (the operator's
 * template and branding when `pages` is the runtime's page set, service `PAGES_SERVICE`) with
 * the safe catalogue message, a hint, the error code and request id (for the administrator, who
 * finds the detail in the audit log) and a "Sign in again" link. Never shows the operator-facing
 * detail.
 */
export function loginErrorPage(
  err: GatehouseError,
  requestId: string,
  retryHref: string,
  pages?: PageSet,
): string {
  return renderPage(
    'error',
    {
      title: 'Sign-in failed',
      status: err.status,
      code: err.code,
      message: err.message,
      hint: HINTS[err.code],
      request_id: requestId,
      retry_url: retryHref,
    },
    pages,
  );
}
