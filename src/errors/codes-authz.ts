import type { ErrorEntry } from './entry.js';

/** Error codes of the authz area. */
export const authzCodes = {
  GH_UNAUTHENTICATED: {
    status: 401,
    message: 'Authentication required.',
    meaning:
      "The route requires a verified identity and the request carried no credential any of the route's authenticators accepts. The WWW-Authenticate header names the expected scheme (RFC 6750 §3).",
  },
  GH_ACCESS_DENIED: {
    status: 403,
    message: 'Access denied.',
    meaning:
      "The identity was verified but the route's access rules do not allow it: a deny rule matched, or no allow rule matched (deny by default). The audit event carries the reason codes (rule.deny, rule.default_deny, group.missing:<g>, groups.overage, …) and the rule; `gatehouse explain` shows every rule evaluated.",
  },
  GH_INSUFFICIENT_SCOPE: {
    status: 403,
    message: 'The access token lacks a required scope.',
    meaning:
      'An allow rule would have matched had the bearer token been granted more scopes. The response carries `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` naming the missing scopes (RFC 6750 §3.1).',
  },
} as const satisfies Record<string, ErrorEntry>;
