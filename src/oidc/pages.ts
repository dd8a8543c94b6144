import type { GatehouseError } from '../errors/index.js';
import { escapeHtml } from '../server/respond.js';

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
  GH_LOGIN_IDP_UNAVAILABLE: 'The identity provider could not be reached. Try again in a moment.',
};

/**
 * The page a browser sees when a sign-in fails: the safe catalogue message, a hint, the error
 * code and request id (for the administrator, who finds the detail in the audit log) and a
 * "Sign in again" link. Never shows the operator-facing detail.
 */
export function loginErrorPage(err: GatehouseError, requestId: string, retryHref: string): string {
  const hint = HINTS[err.code];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in failed</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:.1rem .3rem}a.button{display:inline-block;margin-top:1rem;padding:.5rem 1rem;background:#1f4fd1;color:#fff;text-decoration:none;border-radius:.3rem}</style>
</head><body><h1>Sign-in failed</h1>
<p>${escapeHtml(err.message)}</p>
${hint ? `<p>${escapeHtml(hint)}</p>\n` : ''}<p><a class="button" href="${escapeHtml(retryHref)}">Sign in again</a></p>
<p><small>Error <code>${escapeHtml(err.code)}</code> · request id <code>${escapeHtml(requestId)}</code></small></p>
</body></html>`;
}
