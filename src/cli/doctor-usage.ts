/** Usage of `gatehouse doctor`, printed by `--help` and after usage errors. */
export const DOCTOR_USAGE = `usage: gatehouse doctor -c FILE [--token JWT|@file|-] [--client-credentials [--scope S]]
                        [--only FAMILY,...] [--timeout 5s] [--expiry-days 30] [--kerberos-user NAME]
                        [--problems] [--json]

Checks the configuration against the live world and prints each finding (error, warning, ok)
with what was seen and how to fix it:
  provider  discovery reachable, issuer exactly as configured, JWKS keys usable, algorithms
            offered vs allowed, clock skew with the IdP (its Date header) vs clock_skew
  token     with --token: the provider that takes it and every mismatch (iss, aud, alg, typ,
            exp, lifetime, claims the rules use, Entra ID group overage), then the verifier's verdict
  login     the redirect URI Gatehouse sends, the session cookie vs the scheme, and a probe of
            the IdP's authorization endpoint (redirect URI or client id refused)
  headers   identity header names (underscores, case duplicates); with --token, their sizes
            against IIS / http.sys defaults (MaxFieldLength, MaxRequestBytes)
  upstream  every upstream target reached (TCP/TLS connect and HEAD); for auth.kerberos the
            keytab, a TGT from it and the SPN at the KDC, with --kerberos-user a real S4U
  tls       listener and upstream certificates expired or expiring within --expiry-days

  -c, --config FILE       the config file
  --token JWT|@file|-     a bearer token to check, a file holding one, or - for stdin
  --client-credentials    get the token from the login client (session.login client_id and
                          client_secret) with the client credentials grant
  --scope S               scope asked for with --client-credentials
  --only LIST             run only these families (comma-separated)
  --timeout DURATION      timeout of each probe (default 5s)
  --expiry-days N         certificate expiry warning window (default 30)
  --kerberos-user NAME    AD account to try Kerberos delegation (S4U2Self + S4U2Proxy) for
  --problems              print only errors and warnings (ok findings are still counted)
  --json                  the report as JSON
  -h, --help              this help

exit status: 0 no error finding, 1 at least one error finding, 2 usage or configuration error
`;
