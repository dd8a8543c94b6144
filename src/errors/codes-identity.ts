import type { ErrorEntry } from './entry.js';

/** Error codes of the identity area: propagating the verified identity upstream, client certificates. */
export const identityCodes = {
  GH_IDENTITY_TOO_LARGE: {
    status: 403,
    message: 'Your identity is too large to forward to this application.',
    meaning:
      "The identity headers Gatehouse would inject for this principal (templated headers, the signed assertion, Easy Auth headers) exceed the route's `identity.max_header_bytes` (default 8 KiB), typically because of a very long group list. Nothing is truncated: the request is refused. Filter `groups` in the assertion, send fewer headers, or raise the limit if the upstream (IIS: 16 KiB per header by default) accepts more.",
  },
  GH_IDENTITY_UNENCODABLE: {
    status: 403,
    message: 'Your identity cannot be forwarded to this application.',
    meaning:
      'A value of an injected identity header contains characters that the route refuses to forward (`identity.non_ascii: reject`): non-ASCII characters, control characters, or the group separator inside a group name. Use `non_ascii: percent` or `rfc8187` to encode such values instead.',
  },
  GH_CLIENT_CERT_INVALID: {
    status: 401,
    message: 'The client certificate was not accepted.',
    meaning:
      "The TLS client presented a certificate that does not chain to the listener's `tls.client_ca`, is expired or not yet valid. With `client_certificate: request` the handshake completes so that Gatehouse can answer with this error; with `require` such a handshake is refused outright.",
  },
} as const satisfies Record<string, ErrorEntry>;
