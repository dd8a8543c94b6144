import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../pipeline/context.js';
import { GatehouseError } from '../errors/index.js';

/** Adds a `Set-Cookie` value to the response Gatehouse writes for this request. */
export function addSetCookie(ctx: RequestContext, value: string): void {
  const cur = ctx.responseHeaders.get('set-cookie');
  if (cur === undefined) ctx.responseHeaders.set('set-cookie', [value]);
  else if (Array.isArray(cur)) cur.push(value);
  else ctx.responseHeaders.set('set-cookie', [cur, value]);
}

function baseHeaders(ctx: RequestContext): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {};
  for (const [k, v] of ctx.responseHeaders) h[k] = v;
  h['cache-control'] = 'no-store';
  h['x-request-id'] = ctx.id;
  return h;
}

/** 302 to `location` with the pending response headers (cookies); never cached. */
export function sendRedirect(ctx: RequestContext, location: string): void {
  const h = baseHeaders(ctx);
  h.location = location;
  h['content-length'] = '0';
  ctx.res.writeHead(302, h);
  ctx.res.end();
}

/** A small HTML page with the pending response headers. */
export function sendHtml(ctx: RequestContext, status: number, html: string): void {
  const h = baseHeaders(ctx);
  h['content-type'] = 'text/html; charset=utf-8';
  h['content-length'] = String(Buffer.byteLength(html));
  h['x-content-type-options'] = 'nosniff';
  h['content-security-policy'] = "default-src 'none'; style-src 'unsafe-inline'";
  ctx.res.writeHead(status, h);
  ctx.res.end(ctx.method === 'HEAD' ? undefined : html);
}

/** JSON with the pending response headers; never cached. */
export function sendJsonBody(ctx: RequestContext, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  const h = baseHeaders(ctx);
  h['content-type'] = 'application/json';
  h['content-length'] = String(Buffer.byteLength(body));
  ctx.res.writeHead(status, h);
  ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
}

/** Throws GH_METHOD_NOT_ALLOWED (with `Allow`) unless the method is one of `allowed`. */
export function requireMethod(ctx: RequestContext, allowed: readonly string[]): void {
  if (!allowed.includes(ctx.method)) {
    throw new GatehouseError('GH_METHOD_NOT_ALLOWED', `${ctx.method} ${ctx.path}`, {
      headers: { allow: allowed.join(', ') },
    });
  }
}

/** Reads an `application/x-www-form-urlencoded` body of at most `limit` bytes. */
export async function readForm(req: IncomingMessage, limit: number): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw new GatehouseError(
      'GH_BACKCHANNEL_LOGOUT_INVALID',
      `content-type ${JSON.stringify(type)}, expected application/x-www-form-urlencoded`,
    );
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw new GatehouseError('GH_BODY_TOO_LARGE', `form body over ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
