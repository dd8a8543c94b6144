import type { RequestContext } from '../pipeline/context.js';
import { multipleTokensError, tokenError } from './errors.js';
import { MAX_TOKEN_LENGTH } from './jws.js';
import type { TokenSourcesConfig } from './schema.js';

/** Token sources of one route, compiled once. */
export interface CompiledSources {
  readonly authorization: boolean;
  /** Lower-cased header name. */
  readonly header: string | undefined;
  readonly cookie: string | undefined;
  readonly query: string | undefined;
  readonly cache: boolean;
}

/** Compiles a route's `token:` block (default: `Authorization: Bearer` only). */
export function compileSources(cfg: TokenSourcesConfig | undefined): CompiledSources {
  return Object.freeze({
    authorization: cfg?.authorization ?? true,
    header: cfg?.header?.toLowerCase(),
    cookie: cfg?.cookie,
    query: cfg?.query,
    cache: cfg?.cache ?? true,
  });
}

/** RFC 6750 §2.1: `Bearer 1*SP b64token`; the scheme is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const SCHEME_BEARER = /^bearer(?:\s|$)/i;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

function checked(token: string, where: string): string {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw tokenError(
      'GH_TOKEN_MALFORMED',
      'token.too_large',
      `${where}: token is ${token.length} bytes (limit ${MAX_TOKEN_LENGTH})`,
    );
  }
  if (!TOKEN68.test(token))
    throw tokenError('GH_TOKEN_MALFORMED', 'token.malformed', `${where}: not a token68 value`);
  return token;
}

function fromAuthorization(value: string): string | undefined {
  if (value.length > MAX_TOKEN_LENGTH + 16) {
    if (!SCHEME_BEARER.test(value)) return undefined;
    throw tokenError(
      'GH_TOKEN_MALFORMED',
      'token.too_large',
      `Authorization: value is ${value.length} bytes`,
    );
  }
  const m = BEARER.exec(value);
  if (m) return m[1] as string;
  if (SCHEME_BEARER.test(value))
    throw tokenError('GH_TOKEN_MALFORMED', 'token.malformed', 'Authorization: expected "Bearer <token>"');
  return undefined;
}

function cookieValues(header: string, name: string, out: string[]): void {
  if (!header.includes(name)) return;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    out.push(v);
  }
}

function takeQuery(ctx: RequestContext, name: string, out: string[]): void {
  const q = ctx.query;
  if (q.length < 2 || !q.includes(name)) return;
  const kept: string[] = [];
  let found = false;
  for (const part of q.slice(1).split('&')) {
    const eq = part.indexOf('=');
    if ((eq < 0 ? part : part.slice(0, eq)) !== name) {
      kept.push(part);
      continue;
    }
    found = true;
    let v = eq < 0 ? '' : part.slice(eq + 1);
    try {
      v = decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      throw tokenError('GH_TOKEN_MALFORMED', 'token.malformed', `query ${name}: bad percent-encoding`);
    }
    out.push(v);
  }
  // RFC 6750 §5.3: keep the token out of upstream URLs and logs.
  if (found) ctx.query = kept.length ? `?${kept.join('&')}` : '';
}

/**
 * The text after `Bearer ` of the request's one Authorization header, not validated, when the
 * route reads tokens from that header only (so no other credential can be in the request); else
 * undefined. For a probe of the verified-token cache before {@link extractToken}: a cached token
 * was validated when it was verified, and a candidate the cache does not hold goes through
 * {@link extractToken} as usual. With exactly one space after `Bearer`, the candidate is what
 * {@link extractToken} would return for a well-formed header.
 */
export function bearerCandidate(ctx: RequestContext, s: CompiledSources): string | undefined {
  if (!s.authorization || s.header !== undefined || s.cookie !== undefined || s.query !== undefined)
    return undefined;
  const raw = ctx.req.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      if (value !== undefined) return undefined;
      value = raw[i + 1] as string;
    }
  }
  if (value === undefined || value.length < 8 || value.length > MAX_TOKEN_LENGTH + 16) return undefined;
  if (!value.startsWith('Bearer ') || value.charCodeAt(7) === 0x20) return undefined;
  return value.slice(7);
}

/**
 * The one bearer token of a request, or undefined when it carries none. Two credentials (two
 * Authorization headers, header + cookie, a repeated parameter…) → 400 GH_TOKEN_MULTIPLE
 * (RFC 6750 §2). A malformed or oversized credential → 401 GH_TOKEN_MALFORMED.
 */
export function extractToken(ctx: RequestContext, s: CompiledSources): string | undefined {
  const raw = ctx.req.rawHeaders;
  let token: string | undefined;
  let count = 0;
  let authHeaders = 0;
  let cookies: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const n = name.length;
    if (s.authorization && n === 13 && name.toLowerCase() === 'authorization') {
      authHeaders++;
      const t = fromAuthorization(raw[i + 1] as string);
      if (t !== undefined) {
        token = t;
        count++;
      }
    } else if (s.header !== undefined && n === s.header.length && name.toLowerCase() === s.header) {
      token = checked((raw[i + 1] as string).trim(), s.header);
      count++;
    } else if (s.cookie !== undefined && n === 6 && name.toLowerCase() === 'cookie') {
      cookieValues(raw[i + 1] as string, s.cookie, (cookies ??= []));
    }
  }
  if (authHeaders > 1) throw multipleTokensError('more than one Authorization header');
  if (cookies) {
    for (const c of cookies) token = checked(c, `cookie ${s.cookie}`);
    count += cookies.length;
  }
  if (s.query !== undefined) {
    const qs: string[] = [];
    takeQuery(ctx, s.query, qs);
    for (const q of qs) token = checked(q, `query ${s.query}`);
    count += qs.length;
  }
  if (count > 1) throw multipleTokensError(`${count} tokens in one request`);
  return token;
}
