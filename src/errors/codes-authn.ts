import type { ErrorEntry } from './catalogue.js';

/** Error codes of the authn area (bearer tokens, identity providers). */
export const authnCodes = {
  GH_TOKEN_MALFORMED: {
    status: 401,
    message: 'The access token is malformed.',
    meaning:
      'The credential is not a well-formed token: the `Authorization` value is not `Bearer <token68>`, the token is larger than 16 KiB, it is not a compact JWS of three unpadded base64url segments, its header or claims are not JSON objects, or it is not a JWT and no provider on the route does introspection.',
  },
  GH_TOKEN_INVALID: {
    status: 401,
    message: 'The access token is invalid.',
    meaning:
      'The token failed verification: signature, algorithm not allowed for the provider (`alg: none` never is), key id unknown to the provider that issued it (after at most one JWKS refetch per cooldown), a `crit` header, an embedded or remote key header (`jwk`, `jku`, `x5u`, `x5c`), a claim of the wrong type (e.g. a non-string `sub`), a missing `exp` or subject, or introspection answered `active: false`. The `reasons` in the audit event say which.',
  },
  GH_TOKEN_EXPIRED: {
    status: 401,
    message: 'The access token expired.',
    meaning:
      'The token `exp` is in the past (beyond the provider `clock_skew`), or the token is older than the provider `max_token_age` (from `iat`). A token without `exp` is GH_TOKEN_INVALID (`token.claim_missing`).',
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
      'The token `typ` header is not the provider `required_typ` (e.g. `at+jwt`, RFC 9068) or not one of JWT/at+jwt by default, or the token looks like an OpenID Connect ID token (it has a `nonce`, or its audience is one of the provider `login_client_ids`) and `reject_id_tokens` is on. ID tokens prove a login to a client; they are not access tokens for an API.',
  },
  GH_TOKEN_MULTIPLE: {
    status: 400,
    message: 'The request carries more than one access token.',
    meaning:
      'RFC 6750 §2: a request must use exactly one method to transmit the token. Two `Authorization` headers, or a token in both the header and the configured cookie/query parameter, or a repeated token cookie/parameter, are refused with `error="invalid_request"`.',
  },
  GH_IDP_UNAVAILABLE: {
    status: 503,
    message: 'The identity provider is unavailable; please retry shortly.',
    meaning:
      "Gatehouse could not reach the identity provider: its JWKS could not be loaded and the keys held are older than the provider's `jwks_refresh` + `jwks_stale` window (or none were ever loaded), or the introspection endpoint failed (network error, timeout, non-200, invalid JSON). Gatehouse fails closed instead of answering 401 for everyone.",
  },
} as const satisfies Record<string, ErrorEntry>;
