import type { RequestContext } from '../pipeline/context.js';
import { GatehouseError } from '../errors/index.js';
import { CONSOLE_HEADERS } from './static.js';

/** The largest JSON body an admin call accepts. */
const MAX_BODY = 16 * 1024;

/** Writes a JSON answer of the admin API (no-store, the console's security headers). */
export function sendAdminJson(ctx: RequestContext, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  ctx.res.writeHead(status, {
    ...CONSOLE_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'X-Request-Id': ctx.id,
  });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
}

/**
 * CSRF defence of mutations (POST, DELETE): the header `X-Gatehouse-Admin: 1` (a custom header
 * forces a CORS preflight cross-site, which the admin listener never grants), and when the
 * browser names the request's origin (`Origin`, `Sec-Fetch-Site`), it must be the admin
 * listener itself. Throws GH_ADMIN_CSRF.
 */
export function checkCsrf(ctx: RequestContext): void {
  const h = ctx.req.headers;
  if (h['x-gatehouse-admin'] !== '1')
    throw new GatehouseError('GH_ADMIN_CSRF', 'no X-Gatehouse-Admin: 1 header', { reasons: ['admin.csrf'] });
  const site = h['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    throw new GatehouseError('GH_ADMIN_CSRF', `Sec-Fetch-Site: ${site}`, { reasons: ['admin.csrf'] });
  const origin = h.origin;
  if (origin !== undefined && origin !== `${ctx.scheme}://${ctx.hostHeader}`)
    throw new GatehouseError('GH_ADMIN_CSRF', `Origin ${origin} is not the admin listener`, {
      reasons: ['admin.csrf'],
    });
}

/** Reads a small JSON object body (empty: `{}`); GH_ADMIN_BAD_REQUEST when it is not one. */
export async function readJsonBody(ctx: RequestContext): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new GatehouseError('GH_ADMIN_BAD_REQUEST', `body over ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  if (size === 0) return {};
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new GatehouseError('GH_ADMIN_BAD_REQUEST', 'the body is not a JSON object');
}
