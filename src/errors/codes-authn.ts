import type { ErrorEntry } from './entry.js';

/** Error codes of the authn area (bearer tokens, identity providers). */
export const authnCodes = {
  GH_TOKEN_MALFORMED: {
    status: 401,
    message: 'The access token is malformed.',
    meaning:
      'The credential is not a well-formed token: the `Authorization` value is not `Bearer <token68>`, the token is larger than the provider `max_token_bytes` (default 8 KiB, Entra ID presets 16 KiB; never more than 16 KiB), it is not a compact JWS of three unpadded base64url segments, its header or claims are not JSON objects, or it is not a JWT and no provider on the route does introspection.',
  },
  GH_TOKEN_INVALID: {
    status: 401,
    message: 'The access token is invalid.',
    meaning:
      'The token failed verification: signature, algorithm not allowed for the provider (`alg: none` never is), key id unknown to the provider that issued it (after at most one JWKS refetch per cooldown), a signing key the JWKS publishes but Gatehouse refuses to use (`token.key_unusable`: RSA under 2048 bits or with a public exponent that is not an odd number from 3 to 2^256, EC coordinates that do not fit `crv`, a private key), a `crit` header, an embedded or remote key header (`jwk`, `jku`, `x5u`, `x5c`), a claim of the wrong type (e.g. a non-string `sub`), a blank identifier claim (`token.claim_blank`) or a claim with control characters (`token.claim_control`), a `cnf` confirmation method other than `x5t#S256` (`token.cnf_unsupported`), a missing `exp` or subject, or introspection answered `active: false`. The `reasons` in the audit event say which.',
  },
  GH_TOKEN_EXPIRED: {
    status: 401,
    message: 'The access token expired.',
    meaning:
      'The token `exp` is in the past (beyond the provider `clock_skew`), or the token is older than the provider `max_token_age` (from `iat`). A token without `exp` is GH_TOKEN_INVALID (`token.claim_missing`).',
  },
  GH_TOKEN_LIFETIME: {
    status: 401,
    message: 'The access token lifetime is not acceptable.',
    meaning:
      'A time claim (`exp`, `nbf`, `iat`) of the token or of its introspection answer is not a plausible NumericDate (`token.time_implausible`: below 0 or after 9999-12-31, e.g. an `exp` in milliseconds or `1e308`), or the token is valid for longer than the provider `max_token_lifetime` (`token.lifetime_too_long`: `exp` minus `iat`, else minus `nbf`, else minus now; default 24 h, Entra ID presets 28 h). Checked once when the token is verified.',
  },
  GH_TOKEN_NOT_YET_VALID: {
    status: 401,
    message: 'The access token is not valid yet.',
    meaning:
      'The token `nbf` or `iat` lies in the future by more than the provider `clock_skew`. Check the clocks of the identity provider and of Gatehouse.',
  },
  GH_TOKEN_ISSUER: {
    status: 401,
    message: 'The access token was issued by an untrusted issuer.',
    meaning:
      'The token `iss` is missing or matches none of the providers this route accepts (`routes[].providers`, default all). Each provider is matched by its exact `issuer` string: Entra ID v1 (`https://sts.windows.net/<tenant>/`) and v2 (`https://login.microsoftonline.com/<tenant>/v2.0`) issuers differ.',
  },
  GH_TOKEN_AUDIENCE: {
    status: 401,
    message: 'The access token is not meant for this service.',
    meaning:
      'The token `aud` contains none of the provider `audiences` (or is missing). For Entra ID, the audience is the application ID URI (`api://…`) or the client id of the API app registration.',
  },
  GH_TOKEN_TYPE: {
    status: 401,
    message: 'The credential is not an access token.',
    meaning:
      'The token `typ` header is not the provider `required_typ` (e.g. `at+jwt`, RFC 9068) or not one of JWT/at+jwt by default, or the token looks like an OpenID Connect ID token (it has a `nonce`, or its audience is one of the provider `login_client_ids`) and `reject_id_tokens` is on, or an introspection answer says the token is not an access token (`token.not_access_token`: a `token_type` other than `Bearer`/`access_token`, e.g. `refresh_token`, or a Keycloak `typ` such as `Refresh`, `Offline` or `ID`). ID and refresh tokens are not access tokens for an API.',
  },
  GH_TOKEN_MULTIPLE: {
    status: 400,
    message: 'The request carries more than one access token.',
    meaning:
      'RFC 6750 §2: a request must use exactly one method to transmit the token. Two `Authorization` headers, or a token in both the header and the configured cookie/query parameter, or a repeated token cookie/parameter, are refused with `error="invalid_request"`.',
  },
  GH_TOKEN_IN_QUERY: {
    status: 400,
    message: 'Access tokens must not be sent in the URL.',
    meaning:
      'RFC 6750 §5.3: the query string of a request to an authenticated route names an OAuth token parameter (`access_token`, `id_token` or `refresh_token`, compared case-insensitively after percent-decoding, `name[]` forms included) that the route does not read its token from (`token.query`), or a different spelling of the parameter it does read. Gatehouse refuses instead of forwarding the token into upstream URLs and access logs. Send the token in `Authorization: Bearer`, or configure `token.query` on the route.',
  },
  GH_TOKEN_DPOP_BOUND: {
    status: 401,
    message: 'The access token is bound to a DPoP key and cannot be used as a bearer token.',
    meaning:
      'The token (or its introspection answer) carries `cnf.jkt`, or introspection says `token_type: DPoP` (RFC 9449 §6): it may only be used with a DPoP proof, which Gatehouse does not verify. RFC 9449 §7.1 forbids accepting it as a plain bearer token.',
  },
  GH_TOKEN_CERT_BINDING: {
    status: 401,
    message: 'The access token is bound to a client certificate this connection did not present.',
    meaning:
      "The token (or its introspection answer) carries `cnf.x5t#S256` (RFC 8705 §3): it is accepted only over a TLS connection whose client certificate was verified against the listener's `tls.client_ca` and whose SHA-256 thumbprint (base64url of the DER certificate) equals that value. `token.cert_missing`: no verified client certificate on the connection; `token.cert_mismatch`: a different certificate.",
  },
  GH_CLIENT_CERT_WEAK: {
    status: 401,
    message: 'The client certificate uses a key or signature that is too weak.',
    meaning:
      'A client certificate (on an `mtls` route, or one a certificate-bound token relies on) or an intermediate certificate of its chain has an RSA key under 2048 bits or with an unusual public exponent, an EC key on a curve other than P-256, P-384 or P-521, a DSA or unknown key (`mtls.cert.weak_key`), or is signed with SHA-1, MD5 or another algorithm outside SHA-2/SHA-3 RSA, ECDSA and EdDSA (`mtls.cert.weak_signature`). The trust anchor in `tls.client_ca` itself is not judged.',
  },
  GH_IDP_THROTTLED: {
    status: 503,
    message: 'Too many tokens are being checked with the identity provider; please retry shortly.',
    meaning:
      "The provider's outbound introspection budget (`introspection.budget`, default 50/s, bucket of `introspection.budget_burst`, default 100) is spent: Gatehouse refuses to send more introspection calls to the IdP until it refills, so a storm of random opaque tokens cannot flood the IdP. Tokens whose answer is cached keep working. `Retry-After` says when a call will be allowed again.",
  },
  GH_IDP_UNAVAILABLE: {
    status: 503,
    message: 'The identity provider is unavailable; please retry shortly.',
    meaning:
      "Gatehouse could not reach the identity provider: its JWKS could not be loaded and the keys held are older than the provider's `jwks_refresh` + `jwks_stale` window (or none were ever loaded), or the introspection endpoint failed (network error, timeout, non-200, invalid JSON). Gatehouse fails closed instead of answering 401 for everyone.",
  },
} as const satisfies Record<string, ErrorEntry>;
