import type { ErrorEntry } from './entry.js';

/**
 * Error codes of protocol-level refusals at the edge: headers an upstream would act on,
 * upgrades, connections reused for another host.
 */
export const protocolCodes = {
  GH_UPGRADE_NOT_ALLOWED: {
    status: 400,
    message: 'Protocol upgrade not allowed here.',
    meaning:
      'The request asks to switch protocols (`Connection: upgrade`) in a way Gatehouse does not proxy: a WebSocket upgrade on a route without `websocket: true`, or an upgrade to another protocol (h2c…) on a request with a body. Upgrades to other protocols on requests without a body are ignored and the request is served as HTTP/1.1. The connection closes after the answer.',
  },
  GH_MISDIRECTED_REQUEST: {
    status: 421,
    message: 'This connection was set up for another host.',
    meaning:
      'On a TLS listener, the Host header names a different host than the server name (SNI) the client sent when it opened the connection. A client must open a new connection for each host (RFC 9110 §15.5.20), so that a connection made for one host, e.g. without client-certificate requirements, is never reused to reach another.',
  },
} as const satisfies Record<string, ErrorEntry>;
