import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from './principal.js';
import type { CompiledRoute } from './route.js';

/**
 * Per-request state threaded through the pipeline. Created once per request by the server;
 * stages read it and add to it, never re-parse the raw request.
 */
export interface RequestContext {
  readonly id: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** `performance.now()` at accept (milliseconds). */
  readonly start: number;
  /** Immediate TCP peer. */
  readonly peer: string;
  /** Client address derived through the trusted-proxy chain (the peer when it is untrusted). */
  clientIp: string;
  /** True when the immediate peer is in `server.trusted_proxies`. */
  readonly peerTrusted: boolean;
  /** Scheme the client used (from X-Forwarded-Proto only when the peer is trusted). */
  scheme: 'http' | 'https';
  /** Host the client asked for: lower-case, no port. */
  host: string;
  /** Host header value as sent (may include port). */
  hostHeader: string;
  readonly method: string;
  /** The normalised path: what was matched, authorised and forwarded. */
  path: string;
  /** Raw query string including the leading `?`, or ''. Never used for matching. */
  query: string;
  route: CompiledRoute | undefined;
  principal: Principal | undefined;
  /** Headers Gatehouse injects upstream. Hop-by-hop removal never touches these. */
  readonly inject: Map<string, string>;
  /** Lower-cased names of incoming headers to drop before forwarding (spoofed identity, own cookies…). */
  readonly drop: Set<string>;
  /** Reason codes collected along the pipeline (audit, metrics, responses). */
  readonly reasons: string[];
  /** Name of the rule or policy that decided. */
  rule: string | undefined;
  /** Response headers Gatehouse adds to the client response (RateLimit, Set-Cookie, …). */
  readonly responseHeaders: Map<string, string | string[]>;
  /** Upstream status, when forwarded. */
  upstreamStatus: number | undefined;
  /** hrtime when the request was handed to the upstream pool (after authentication). */
  upstreamDispatch: number | undefined;
  /** hrtime when the upstream response headers arrived. */
  upstreamStart: number | undefined;
  upstreamEnd: number | undefined;
  /** Per-request scratch for stages (trace for explain, etc.). */
  readonly extra: Record<string, unknown>;
}
