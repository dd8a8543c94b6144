import type { ErrorEntry } from './entry.js';

/** Error codes of the limits area: rate limits, quotas, API keys, forward-auth. */
export const limitsCodes = {
  GH_RATE_LIMITED: {
    status: 429,
    message: 'Too many requests.',
    meaning:
      'A smoothing limit (`rate`/`burst`, token bucket) of the route was exceeded. The response carries `Retry-After` and the `RateLimit-Policy` / `RateLimit` headers; the audit reason is `limit.exceeded:<limit name>`.',
  },
  GH_QUOTA_EXCEEDED: {
    status: 429,
    message: 'Quota exceeded.',
    meaning:
      'A quota (`quota: N/period`) of the route is used up for this subject, client, key, claim, route or address. `Retry-After` says when budget is available again; the audit reason is `limit.exceeded:<limit name>`.',
  },
  GH_LIMIT_STORE_UNAVAILABLE: {
    status: 503,
    message: 'Request limits cannot be checked right now.',
    meaning:
      'The shared limit store (Redis) did not answer and the limit is `on_store_error: fail_closed` (the default for quotas). Gatehouse reconnects by itself; check Redis reachability.',
  },
  GH_APIKEY_INVALID: {
    status: 401,
    message: 'Invalid API key.',
    meaning:
      'The request carries an API key (header or opted-in query parameter) that matches no configured key hash, has expired, or was sent more than once.',
  },
  GH_FORWARD_AUTH_UNTRUSTED: {
    status: 403,
    message: 'Forward-auth requests are accepted from trusted proxies only.',
    meaning:
      '`/.gatehouse/auth` was called by a peer outside `server.trusted_proxies`. The original request is described by X-Forwarded-*/X-Original-* headers, which only a trusted proxy may set.',
  },
  GH_FORWARD_AUTH_BAD_REQUEST: {
    status: 400,
    message: 'The forward-auth request does not describe the original request.',
    meaning:
      'A trusted proxy called `/.gatehouse/auth` without a usable X-Forwarded-Uri / X-Original-URI (origin-form path), X-Forwarded-Method or X-Forwarded-Host.',
  },
} as const satisfies Record<string, ErrorEntry>;
