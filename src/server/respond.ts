import type { ServerResponse } from 'node:http';
import type { GatehouseError } from '../errors/index.js';
import { defaultPages, escapeHtml, type PageSet } from '../pages/index.js';
import { publicReasonOfError } from '../authz/public-reason.js';

export { escapeHtml };

/** True when the client prefers an HTML page (a browser navigation) over JSON. */
export function wantsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const html = accept.indexOf('text/html');
  if (html === -1) return false;
  const json = accept.indexOf('application/json');
  return json === -1 || html < json;
}

/** What the HTML error page needs besides the error: the runtime's pages and sign-in links. */
export interface ErrorPageOptions {
  /** The configuration's pages (operator templates, branding); default: the built-in ones. */
  readonly pages?: PageSet | undefined;
  /** Logout endpoint, offered as "Sign out" when a login is configured and the user is signed in. */
  readonly signOutUrl?: string | undefined;
  /** Login with `prompt=select_account`, offered as "Switch account". */
  readonly switchAccountUrl?: string | undefined;
  /** Login, offered as "Sign in" when the request carries no identity. */
  readonly signInUrl?: string | undefined;
}

function titleOf(err: GatehouseError): string {
  if (err.status === 401) return 'Sign-in required';
  if (err.status === 403) return 'Access denied';
  return err.message.replace(/\.$/, '');
}

function htmlPage(err: GatehouseError, requestId: string, opts: ErrorPageOptions | undefined): string {
  const reason = publicReasonOfError(err);
  const user = reason?.user;
  return (opts?.pages ?? defaultPages).render('error', {
    title: titleOf(err),
    status: err.status,
    code: err.code,
    message: err.message,
    reason: reason?.text,
    reason_code: reason?.code,
    user,
    request_id: requestId,
    sign_out_url: user !== undefined ? opts?.signOutUrl : undefined,
    switch_account_url: user !== undefined ? opts?.switchAccountUrl : undefined,
    sign_in_url: user === undefined && err.status === 401 ? opts?.signInUrl : undefined,
  });
}

/**
 * Writes an error response: JSON `{error, message, reason?, request_id}` for API clients (the
 * client-safe reason code of a refusal), the `error` page for browsers (the reason in plain
 * words, the request id, sign-out / switch-account links from `page`). Never includes stack
 * traces, details or internal addresses.
 */
export function sendError(
  res: ServerResponse,
  err: GatehouseError,
  requestId: string,
  accept: string | undefined,
  extraHeaders?: ReadonlyMap<string, string | string[]>,
  method?: string,
  page?: ErrorPageOptions,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const html = wantsHtml(accept);
  const body = html
    ? htmlPage(err, requestId, page)
    : JSON.stringify({
        error: err.code,
        message: err.message,
        reason: publicReasonOfError(err)?.code,
        request_id: requestId,
      });
  const headers: Record<string, string | string[]> = {
    'content-type': html ? 'text/html; charset=utf-8' : 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
  };
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) headers[k.toLowerCase()] = v;
  if (extraHeaders) for (const [k, v] of extraHeaders) headers[k.toLowerCase()] = v;
  if (err.status >= 500 || err.status === 400 || err.status === 413 || err.status === 431)
    headers.connection = 'close';
  res.writeHead(err.status, headers);
  res.end(method === 'HEAD' ? undefined : body);
}

/** Writes a small JSON response (internal endpoints). */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  requestId: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-request-id': requestId,
    ...headers,
  });
  res.end(body);
}
