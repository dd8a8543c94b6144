import type { ServerResponse } from 'node:http';
import type { GatehouseError } from '../errors/index.js';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** True when the client prefers an HTML page (a browser navigation) over JSON. */
export function wantsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const html = accept.indexOf('text/html');
  if (html === -1) return false;
  const json = accept.indexOf('application/json');
  return json === -1 || html < json;
}

function htmlPage(status: number, code: string, message: string, requestId: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${status} ${escapeHtml(message)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:.1rem .3rem}</style>
</head><body><h1>${escapeHtml(message)}</h1>
<p>Gatehouse answered <strong>${status}</strong> with code <code>${escapeHtml(code)}</code>.</p>
<p>Request id: <code>${escapeHtml(requestId)}</code> — give it to your administrator; the audit log explains the decision.</p>
</body></html>`;
}

/**
 * Writes an error response: JSON `{error, message, request_id}` for API clients, a small HTML
 * page for browsers. Never includes stack traces, details or internal addresses.
 */
export function sendError(
  res: ServerResponse,
  err: GatehouseError,
  requestId: string,
  accept: string | undefined,
  extraHeaders?: ReadonlyMap<string, string | string[]>,
  method?: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const html = wantsHtml(accept);
  const body = html
    ? htmlPage(err.status, err.code, err.message, requestId)
    : JSON.stringify({ error: err.code, message: err.message, request_id: requestId });
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
