import type { RequestContext } from '../pipeline/context.js';
import { forwardedNode } from '../util/ip.js';
import { isOwnCookie, noteDroppedCookie } from '../guard/cookies.js';
import { upstreamOf } from './pool.js';
import { markParsed } from './h1/request-head.js';
import {
  classifyHeader,
  HeaderClass,
  REWRITTEN_FORWARDING as FORWARDING,
  STRIP_REASONS,
} from '../identity/strip.js';

const EMPTY: ReadonlySet<string> = new Set();

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus ones Gatehouse always rebuilds itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
  'http2-settings',
]);
/** Header names listed in `Connection` (lower-case), which are hop-by-hop too. */
function connectionNames(value: string | undefined): Set<string> | undefined {
  // The common values name no header: nothing to split (every upstream response carries one).
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const out = new Set<string>();
  for (const part of value.split(',')) {
    const n = part.trim().toLowerCase();
    if (n && n !== 'close' && n !== 'keep-alive') out.add(n);
  }
  return out.size ? out : undefined;
}

/**
 * Builds the upstream request headers as a flat `[name, value, …]` list: client headers minus
 * hop-by-hop ones, names in `Connection`, headers an upstream would act on (identity, path and
 * method overrides, forwarding and client-certificate claims: any case, `_` or `-`; a route's
 * `trusted_headers` pass from trusted proxies only) and `ctx.drop`; then Gatehouse's own
 * injected headers, which `Connection` can never remove; then forwarding headers (RFC 7239 and
 * X-Forwarded-*), appended to a trusted proxy's values and replacing an untrusted client's.
 * Every removed header is reported in `ctx.extra.strippedHeaders` with one reason per class.
 * The list is a `ParsedHeaderList` (`h1/request-head.ts`): the client's values, passed on unchanged from the
 * parsed request head, are not scanned for control characters a second time.
 */
export function buildUpstreamHeaders(ctx: RequestContext): string[] {
  const route = ctx.route;
  const strip = route?.stripNames ?? EMPTY;
  const raw = ctx.req.rawHeaders;
  const conn = connectionNames(ctx.req.headers.connection);
  const injected =
    ctx.inject.size === 0 ? undefined : new Set([...ctx.inject.keys()].map((k) => k.toLowerCase()));
  const out: string[] = [];
  let stripped: string[] | undefined;
  let classes = 0;
  const trusted = ctx.peerTrusted;
  const pass = trusted ? (route?.trustedHeaders ?? EMPTY) : EMPTY;
  let xff: string | undefined;
  let fwd: string | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    const norm = lower.includes('_') ? lower.replaceAll('_', '-') : lower;
    let cls: HeaderClass = HeaderClass.None;
    if (FORWARDING.has(norm)) {
      if (norm === lower) {
        if (trusted) {
          if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
          else if (lower === 'forwarded') fwd = fwd === undefined ? value : `${fwd}, ${value}`;
          else if (lower === 'x-forwarded-proto') xfProto ??= value;
          else if (lower === 'x-forwarded-host') xfHost ??= value;
        }
        continue;
      }
      cls = HeaderClass.Forwarding;
    } else {
      cls = classifyHeader(norm, strip);
      if (cls !== HeaderClass.None && pass.size !== 0 && pass.has(norm) && !strip.has(norm))
        cls = HeaderClass.None;
    }
    if (cls !== HeaderClass.None) {
      // A trusted proxy's own forwarding headers are expected: removed, not reported.
      if (cls === HeaderClass.Forwarding && trusted && norm === lower) continue;
      (stripped ??= []).push(name);
      classes |= 1 << cls;
      continue;
    }
    if (conn?.has(lower) || ctx.drop.has(lower) || injected?.has(lower)) continue;
    out.push(name, value);
  }
  // Values so far are the parser's own (see ParsedHeaderList); what follows is Gatehouse's.
  markParsed(out, out.length);
  if (stripped) {
    ctx.extra.strippedHeaders = stripped;
    for (let c = 1; c < STRIP_REASONS.length; c++)
      if (classes & (1 << c)) ctx.reasons.push(STRIP_REASONS[c] as string);
  }
  for (const [name, value] of ctx.inject) out.push(name, value);
  out.push('host', route && !route.preserveHost ? upstreamOf(route).authority : ctx.hostHeader);
  const peer = ctx.peer;
  out.push('x-forwarded-for', xff === undefined ? peer : `${xff}, ${peer}`);
  out.push('x-forwarded-proto', xfProto ?? ctx.scheme);
  out.push('x-forwarded-host', xfHost ?? ctx.hostHeader);
  const hop = `for=${forwardedNode(peer)};host="${ctx.hostHeader}";proto=${ctx.scheme}`;
  out.push('forwarded', fwd === undefined ? hop : `${fwd}, ${hop}`);
  out.push('x-request-id', ctx.id);
  return out;
}

/** Response headers that are hop-by-hop (RFC 9110 §7.6.1): never relayed, never cached. */
export const RESPONSE_HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/** Lengths of the names {@link buildResponseHeaders} drops: only those are lower-cased and looked up. */
const FILTERED_LENGTHS = new Uint8Array(32);
for (const n of [...RESPONSE_HOP_BY_HOP, 'x-request-id', 'set-cookie']) FILTERED_LENGTHS[n.length] = 1;

/**
 * Filters upstream response headers (flat `[name, value, …]` pairs) into a flat list for
 * `writeHead`: hop-by-hop headers and names listed in the upstream's `Connection` are removed,
 * and so is every `Set-Cookie` naming one of Gatehouse's own cookies (audited).
 */
export function buildResponseHeaders(raw: readonly string[], ctx: RequestContext): string[] {
  const out: string[] = [];
  let conn: Set<string> | undefined;
  const own = ctx.route?.ownCookies;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (FILTERED_LENGTHS[name.length] === 1) {
      const lower = name.toLowerCase();
      if (lower === 'connection') conn = connectionNames(raw[i + 1]);
      if (RESPONSE_HOP_BY_HOP.has(lower) || lower === 'x-request-id') continue;
      if (lower === 'set-cookie' && own !== undefined && isOwnCookie(raw[i + 1] as string, own)) {
        noteDroppedCookie(ctx, raw[i + 1] as string);
        continue;
      }
    }
    out.push(name, raw[i + 1] as string);
  }
  if (conn) {
    for (let i = out.length - 2; i >= 0; i -= 2)
      if (conn.has((out[i] as string).toLowerCase())) out.splice(i, 2);
  }
  out.push('x-request-id', ctx.id);
  for (const [name, value] of ctx.responseHeaders) {
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}
