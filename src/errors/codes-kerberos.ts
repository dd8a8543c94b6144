import type { ErrorEntry } from './entry.js';

/** Error codes of Kerberos constrained delegation to Windows-authentication upstreams (`auth.kerberos`). */
export const kerberosCodes = {
  GH_KERBEROS_UNMAPPED: {
    status: 403,
    message: 'Your account cannot be mapped to a Windows account for this application.',
    meaning:
      'The upstream signs users in with Kerberos (`auth.kerberos`) and the signed-in principal maps to no Active Directory account: no `user_table` entry, the `user` template has a missing claim (e.g. no `onprem_sam_account_name`), the result is not a valid account name (letters, digits, `.`, `_`, `-`; at most 64 characters) or names another realm, or the request has no signed-in user. Nothing is sent upstream; the refusal is audited with the reason.',
  },
  GH_KERBEROS_UNKNOWN_USER: {
    status: 403,
    message: 'Your Windows account is not known to the directory.',
    meaning:
      'The mapped account does not exist in the Kerberos realm (KDC_ERR_C_PRINCIPAL_UNKNOWN during S4U2Self). Check the mapping (`user`, `user_table`) and the account in Active Directory.',
  },
  GH_KERBEROS_DELEGATION_DENIED: {
    status: 403,
    message: 'The directory does not allow signing you in to this application.',
    meaning:
      'The KDC refused the constrained delegation (S4U2Self/S4U2Proxy, usually KDC_ERR_BADOPTION) for this user: the account is marked sensitive and cannot be delegated or is in Protected Users, or — for every user — the gateway account lacks protocol transition ("use any authentication protocol"), the SPN is not in its msDS-AllowedToDelegateTo, or its TGT is not forwardable. `gatehouse doctor --kerberos-user NAME` shows which.',
  },
  GH_KERBEROS_KDC_UNAVAILABLE: {
    status: 503,
    message: 'The sign-in service for this application is unavailable.',
    meaning:
      'No KDC of the realm answered while Gatehouse needed a new ticket (the gateway TGT or a user service ticket). Requests fail closed: nothing is sent upstream without credentials. Users whose tickets are still valid keep being served.',
  },
  GH_KERBEROS_TICKET_FAILED: {
    status: 503,
    message: 'The sign-in service for this application is unavailable.',
    meaning:
      'Getting a Kerberos ticket failed for another reason than the ones above (keytab unreadable or with a wrong key version, kinit/kvno failed, clock skew, the SPN unknown to the KDC). The log line has the KDC message.',
  },
  GH_KERBEROS_MUTUAL_AUTH_FAILED: {
    status: 502,
    message: 'The application could not prove its identity.',
    meaning:
      'The upstream answered the Negotiate request with a `WWW-Authenticate: Negotiate` token that does not verify (mutual authentication): it is not the service the ticket was issued for. The response is not relayed and the connection is closed.',
  },
  GH_KERBEROS_UPSTREAM_REJECTED: {
    status: 502,
    message: 'The application refused the delegated sign-in.',
    meaning:
      'The upstream answered a request on a Kerberos-authenticated connection with 401 and a Negotiate challenge: it did not accept the ticket (KRB_AP_ERR_MODIFIED: the SPN belongs to another account or the keytab is stale; or it does not keep authentication per connection — IIS `authPersistNonNTLM` must stay true, Apache mod_auth_gssapi needs `GssapiConnectionBound On`). The connection is closed.',
  },
} as const satisfies Record<string, ErrorEntry>;
