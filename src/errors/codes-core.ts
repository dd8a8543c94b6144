import type { ErrorEntry } from './entry.js';

/** Error codes of the core proxy: request parsing, routing, forwarding, listeners. */
export const coreCodes = {
  GH_ROUTE_NOT_FOUND: {
    status: 404,
    message: 'No route matches this request.',
    meaning:
      'No configured route matches the host, path and method. Gatehouse never falls back to an upstream unless a catch-all route is configured.',
  },
  GH_METHOD_NOT_ALLOWED: {
    status: 405,
    message: 'Method not allowed on this route.',
    meaning: 'A route matches the host and path but not the method.',
  },
  GH_PATH_AMBIGUOUS: {
    status: 400,
    message: 'The request path cannot be interpreted unambiguously.',
    meaning:
      'The request target contains encoded separators (%2f, %5c), encoded dot-segments (%2e%2e), raw backslashes, control bytes, trailing dot/space segments on case-insensitive routes, or other sequences that an upstream could interpret differently from Gatehouse.',
  },
  GH_BAD_REQUEST_TARGET: {
    status: 400,
    message: 'Malformed request target.',
    meaning:
      'The request target is not an origin-form path, or an absolute-form target names a host other than the Host header, or a //host-style target was sent.',
  },
  GH_BAD_HOST: {
    status: 400,
    message: 'Missing or malformed Host header.',
    meaning: 'HTTP/1.1 requires exactly one valid Host header.',
  },
  GH_REQUEST_SMUGGLING: {
    status: 400,
    message: 'Conflicting message framing.',
    meaning:
      'The request carries both Content-Length and Transfer-Encoding, several differing Content-Length values, or a transfer coding other than chunked. Such requests are never forwarded (request smuggling, RFC 9112 §6.3).',
  },
  GH_BAD_HEADER: {
    status: 400,
    message: 'Malformed request header.',
    meaning: 'A request header has an invalid name or value.',
  },
  GH_BODY_TOO_LARGE: {
    status: 413,
    message: 'Request body too large.',
    meaning: "The request body exceeds the route's max_body_size.",
  },
  GH_HEADERS_TOO_LARGE: {
    status: 431,
    message: 'Request headers too large.',
    meaning: "The request headers exceed the listener's max_header_size.",
  },
  GH_REQUEST_TIMEOUT: {
    status: 408,
    message: 'Request timed out.',
    meaning: 'The client did not send the request (headers or body) within the configured timeout.',
  },
  GH_UPSTREAM_TIMEOUT: {
    status: 504,
    message: 'The upstream did not answer in time.',
    meaning:
      'Connecting to the upstream, waiting for its response headers, or waiting for body data exceeded the configured timeout.',
  },
  GH_UPSTREAM_UNAVAILABLE: {
    status: 502,
    message: 'The upstream is unavailable.',
    meaning: 'The connection to the upstream was refused, reset or closed before a complete response.',
  },
  GH_UPSTREAM_TLS: {
    status: 502,
    message: 'The upstream TLS handshake failed.',
    meaning:
      "The upstream's certificate did not verify against the configured CA, did not match the server name, or the client certificate was refused.",
  },
  GH_UPSTREAM_BAD_RESPONSE: {
    status: 502,
    message: 'The upstream sent an invalid response.',
    meaning: 'The upstream response could not be parsed or violated HTTP framing.',
  },
  GH_UPSTREAM_BUSY: {
    status: 503,
    message: 'The upstream is busy.',
    meaning:
      'Every connection to the upstream (`max_connections`) is in use and its wait queue (`max_queue`) is full, so the request was refused at once instead of waiting. Carries `Retry-After`.',
  },
  GH_UPSTREAM_QUEUE_TIMEOUT: {
    status: 503,
    message: 'The upstream is busy.',
    meaning:
      'The request waited `timeouts.queue` for a free connection to the upstream (all `max_connections` in use) and got none. Nothing was sent upstream. Carries `Retry-After`.',
  },
  GH_UPSTREAM_NO_HEALTHY_TARGET: {
    status: 503,
    message: 'The upstream is unavailable.',
    meaning:
      'Every target of the upstream farm is down: marked unhealthy by the active health check (`health_check`) or ejected after consecutive failures (`passive_health`). Nothing was sent upstream. Carries `Retry-After` (the shortest remaining cool-down, or the health-check interval).',
  },
  GH_TOO_MANY_CONNECTIONS: {
    status: 429,
    message: 'Too many connections from this client.',
    meaning:
      'The client address already holds `server.max_connections_per_client` open connections. The new connection is answered at once and closed (on TLS listeners closed before the handshake). Trusted proxies are exempt.',
  },
  GH_TOO_MANY_IN_FLIGHT: {
    status: 429,
    message: 'Too many requests in progress from this client.',
    meaning:
      'The client address (through trusted proxies) already has `server.max_in_flight_per_client` requests being handled. Carries `Retry-After`.',
  },
  GH_NOT_READY: {
    status: 503,
    message: 'The gateway is not ready.',
    meaning:
      'Gatehouse is starting and its dependencies (for example identity provider keys) are not loaded yet.',
  },
  GH_AUDIT_UNAVAILABLE: {
    status: 503,
    message: 'The request cannot be audited right now.',
    meaning:
      'An audit sink configured with `on_failure: block` cannot write (syslog server or collector unreachable, disk full): Gatehouse fails closed and refuses requests until the sink writes again. Health endpoints still answer; `gatehouse_audit_sink_up{sink}` is 0 meanwhile. Carries `Retry-After`.',
  },
  GH_LISTEN_FAILED: {
    status: 500,
    message: 'A listener could not be bound.',
    meaning:
      'At start, a listener could not bind its address and port (in use, not permitted, address not on this host). Fatal: every listener already bound is closed and `gatehouse start` exits non-zero.',
  },
  GH_RELOAD_REFUSED: {
    status: 409,
    message: 'The new configuration was not applied.',
    meaning:
      'A reload (SIGHUP, `gatehouse reload`, `server.watch_config`) compiled but could not take over: for example it could not load the keys of an identity provider the running configuration has. The running configuration stays in place.',
  },
  GH_CLUSTER_CRASH_LOOP: {
    status: 500,
    message: 'Workers keep crashing.',
    meaning:
      'In cluster mode (`server.workers`), workers died 5 times within 60 seconds. The primary stops respawning, stops the remaining workers and exits non-zero so the service manager sees the failure.',
  },
  GH_CONTROL_FAILED: {
    status: 503,
    message: 'The running instance could not be reached.',
    meaning:
      '`gatehouse reload` could not reach the control socket of a running Gatehouse (not running, another socket path, no permission) or got no valid answer.',
  },
  GH_INTERNAL: {
    status: 500,
    message: 'Internal error.',
    meaning:
      'An unexpected failure inside Gatehouse. The log line with the same request id carries the detail.',
  },
} as const satisfies Record<string, ErrorEntry>;
