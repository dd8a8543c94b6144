import { GatehouseError } from '../errors/index.js';
import { tokenError } from './errors.js';
import { clientCertOf, weakCertError } from './peer-cert.js';
import type { Tracer } from './trace.js';

/** `x5t#S256`: unpadded base64url of a 32-byte SHA-256 digest (RFC 8705 §3.1). */
const X5T_S256 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * What a token is bound to, from its `cnf` claim (RFC 7800 §3.1) or the `cnf` member of an
 * introspection answer (RFC 8705 §3.2, RFC 9449 §6.2): undefined for a plain bearer token, else
 * the `x5t#S256` of the client certificate it was issued to. Runs once per verified token.
 *
 * - `cnf.jkt` (DPoP, RFC 9449 §6.1): 401 `GH_TOKEN_DPOP_BOUND`. Gatehouse verifies no DPoP
 *   proofs, and RFC 9449 §7.1 forbids accepting such a token with the Bearer scheme.
 * - any other confirmation method (`jwk`, `jwe`, `jku`, `kid`…), or more than one: 401
 *   `GH_TOKEN_INVALID` `token.cnf_unsupported` — accepting it as a bearer token would drop the
 *   proof of possession the issuer asked for.
 */
export function tokenBinding(cnf: unknown, trace?: Tracer): string | undefined {
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) {
    trace?.('cnf', false, '"cnf" is not an object');
    throw tokenError('GH_TOKEN_INVALID', 'token.claim_type', 'claim "cnf" must be an object');
  }
  const methods = Object.keys(cnf);
  if (methods.includes('jkt')) {
    trace?.('cnf', false, 'bound to a DPoP key (cnf.jkt): not usable as a bearer token (RFC 9449 §7.1)');
    throw dpopBound('cnf.jkt present');
  }
  const x5t = (cnf as Record<string, unknown>)['x5t#S256'];
  if (methods.length !== 1 || x5t === undefined) {
    trace?.('cnf', false, `confirmation method ${methods.join(', ') || '(none)'} is not supported`);
    throw tokenError('GH_TOKEN_INVALID', 'token.cnf_unsupported', `cnf members ${methods.join(', ')}`);
  }
  if (typeof x5t !== 'string' || !X5T_S256.test(x5t)) {
    trace?.('cnf', false, '"cnf.x5t#S256" is not a base64url SHA-256 thumbprint');
    throw tokenError('GH_TOKEN_INVALID', 'token.claim_type', 'cnf.x5t#S256 must be a SHA-256 thumbprint');
  }
  trace?.('cnf', true, `bound to the client certificate with x5t#S256 ${x5t} (RFC 8705 §3)`);
  return x5t;
}

/** 401 `GH_TOKEN_DPOP_BOUND`: a DPoP-bound token presented as a bearer token. */
export function dpopBound(detail: string): GatehouseError {
  return tokenError('GH_TOKEN_DPOP_BOUND', 'token.dpop_bound', detail);
}

/**
 * RFC 8705 §3: a certificate-bound token is accepted only when the connection it arrives on
 * presented a client certificate that the listener verified, that is not weak, and whose
 * SHA-256 thumbprint is `x5t`. Per request, but only for bound tokens: one WeakMap lookup.
 */
export function checkBinding(x5t: string, socket: unknown, trace?: Tracer): void {
  const c = clientCertOf(socket);
  if (!c || !c.authorized) {
    const why = c
      ? `its client certificate was not verified (${c.authorizationError ?? '?'})`
      : 'it presented no client certificate';
    trace?.('cert_binding', false, `the token is certificate-bound and the connection ${why}`);
    throw tokenError('GH_TOKEN_CERT_BINDING', 'token.cert_missing', `certificate-bound token: ${why}`);
  }
  if (c.weakness) {
    trace?.('cert_binding', false, `the client certificate is weak: ${c.weakness.detail}`);
    throw weakCertError(c.weakness);
  }
  if (c.x5t !== x5t) {
    trace?.('cert_binding', false, `the client certificate has x5t#S256 ${c.x5t}, the token names ${x5t}`);
    throw tokenError(
      'GH_TOKEN_CERT_BINDING',
      'token.cert_mismatch',
      `client certificate ${c.x5t} is not ${x5t}`,
    );
  }
  trace?.('cert_binding', true, `the connection presented the certificate the token is bound to`);
}
