import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../pipeline/context.js';
import type { CompiledRoute } from '../pipeline/route.js';
import type { Principal } from '../pipeline/principal.js';
import type { RequestTrace } from '../pipeline/tracing.js';
import type { RuntimeState } from '../config/compile.js';
import { canonicalIp, deriveClientIp } from '../util/ip.js';

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
/** A syntactically valid Host header value: reg-name or IP literal, optional port. */
export const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** The per-request state; a class so every context has the same shape (fast property access). */
export class Context implements RequestContext {
  readonly id: string;
  readonly start: number;
  readonly peer: string;
  clientIp: string;
  readonly peerTrusted: boolean;
  scheme: 'http' | 'https';
  host: string;
  hostHeader: string;
  readonly method: string;
  path = '';
  query = '';
  route: CompiledRoute | undefined = undefined;
  principal: Principal | undefined = undefined;
  readonly inject = new Map<string, string>();
  readonly drop = new Set<string>();
  readonly reasons: string[] = [];
  rule: string | undefined = undefined;
  readonly responseHeaders = new Map<string, string | string[]>();
  upstreamStatus: number | undefined = undefined;
  upstreamDispatch: number | undefined = undefined;
  upstreamStart: number | undefined = undefined;
  upstreamEnd: number | undefined = undefined;
  readonly extra: Record<string, unknown> = {};
  tracing: RequestTrace | undefined = undefined;
  /** False when the Host header is missing or malformed (answered with GH_BAD_HOST). */
  hostValid: boolean;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    state: Pick<RuntimeState, 'trusted'>,
    secure: boolean,
    /** Forward-auth: the original request as reported by a trusted proxy. */
    original?: OriginalRequest,
  ) {
    this.start = performance.now();
    this.method = original?.method ?? req.method ?? 'GET';
    const peer = canonicalIp(req.socket.remoteAddress ?? '');
    this.peer = peer;
    const trusted = state.trusted.has(peer);
    this.peerTrusted = trusted;
    const h = req.headers;
    const rid = h['x-request-id'];
    this.id = trusted && typeof rid === 'string' && REQUEST_ID.test(rid) ? rid : randomUUID();
    const xff = h['x-forwarded-for'];
    this.clientIp = trusted
      ? deriveClientIp(peer, Array.isArray(xff) ? xff.join(',') : xff, state.trusted)
      : peer;
    let scheme: 'http' | 'https' = secure ? 'https' : 'http';
    if (trusted) {
      const p = h['x-forwarded-proto'];
      if (p === 'https' || p === 'http') scheme = p;
    }
    this.scheme = scheme;
    const hostHeader = h.host ?? '';
    this.hostHeader = hostHeader;
    this.hostValid = hostHeader !== '' && HOST.test(hostHeader);
    this.host = this.hostValid ? hostOnly(hostHeader) : '';
    if (original) {
      this.scheme = original.scheme;
      this.hostHeader = original.host;
      this.hostValid = original.host !== '' && HOST.test(original.host);
      this.host = this.hostValid ? hostOnly(original.host) : '';
      if (original.clientIp !== undefined) this.clientIp = original.clientIp;
      this.extra.originalUri = original.uri;
    }
  }
}

/**
 * The request a trusted proxy asks about in forward-auth mode (nginx `auth_request`, Traefik
 * ForwardAuth, Envoy ext_authz): built from its `X-Forwarded-*` / `X-Original-*` headers.
 */
export interface OriginalRequest {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  /** Host header value of the original request. */
  readonly host: string;
  /** Original request target (path and query), normalised and matched like inline requests. */
  readonly uri: string;
  readonly clientIp?: string | undefined;
}

/** `Example.COM:8080` → `example.com`, `[::1]:80` → `[::1]`; trailing dot removed. */
export function hostOnly(hostHeader: string): string {
  let end = hostHeader.length;
  if (hostHeader.charCodeAt(0) === 91 /* [ */) end = hostHeader.indexOf(']') + 1;
  else {
    const colon = hostHeader.lastIndexOf(':');
    if (colon !== -1) end = colon;
  }
  let host = hostHeader.slice(0, end).toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

/** Request id for responses that fail before a context exists (parser errors). */
export function newRequestId(): string {
  return randomUUID();
}
