import type { PeerCertificate } from 'node:tls';
import { GatehouseError } from '../errors/index.js';
import type { CompileContext } from '../pipeline/feature.js';
import type { AuthnGlobals, AuthnRoute } from './schema.js';
import { withMemo, type Principal } from '../pipeline/principal.js';
import { AUTHN_NONE, type AuthnResult, type Authenticator } from '../pipeline/stages.js';
import { clientCertOf, weakCertError } from './peer-cert.js';

/** Claims of a certificate principal (`principal.claims`), also used for forwarded cert headers. */
export interface ClientCertClaims {
  readonly subject_dn: string;
  readonly issuer_dn: string;
  readonly serial_number: string;
  /** Lower-case hex SHA-256 of the DER certificate, no colons. */
  readonly fingerprint_sha256: string;
  readonly san_uri: readonly string[];
  readonly san_dns: readonly string[];
  readonly san_email: readonly string[];
  readonly san_ip: readonly string[];
  readonly spiffe_id?: string | undefined;
  /** Epoch seconds. */
  readonly not_before: number;
  readonly not_after: number;
}

/** RFC 4514-style DN from Node's subject object (most specific RDN first, as OpenSSL prints it reversed). */
export function formatDn(obj: Record<string, string | string[]> | undefined): string {
  if (!obj) return '';
  const esc = (v: string): string =>
    v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`).replace(/^[ #]|[ ]$/g, (c) => `\\${c}`);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(obj))
    for (const item of Array.isArray(v) ? v : [v]) parts.push(`${k}=${esc(item)}`);
  return parts.reverse().join(',');
}

/**
 * Parses Node's `subjectaltname` (`DNS:a, URI:spiffe://x, email:"q,uoted"`): entries are
 * separated by ", " and values with special characters are JSON-quoted (Node ≥ 17.3).
 */
export function parseSubjectAltName(s: string | undefined): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  if (!s) return out;
  let i = 0;
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    if (colon < 0) break;
    const type = s.slice(i, colon).trim();
    let value: string;
    let next: number;
    if (s[colon + 1] === '"') {
      let j = colon + 2;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(s.slice(colon + 1, j + 1)) as string;
      } catch {
        value = s.slice(colon + 2, j);
      }
      next = s.indexOf(', ', j);
    } else {
      next = s.indexOf(', ', colon);
      value = s.slice(colon + 1, next < 0 ? s.length : next);
    }
    out.push({ type, value });
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

/** Certificate details from a verified peer certificate. */
export function certClaims(cert: PeerCertificate): ClientCertClaims {
  const sans = parseSubjectAltName(cert.subjectaltname);
  const pick = (t: string): string[] => sans.filter((e) => e.type === t).map((e) => e.value);
  const uris = pick('URI');
  const spiffe = uris.find((u) => u.startsWith('spiffe://'));
  return {
    subject_dn: formatDn(cert.subject as unknown as Record<string, string | string[]>),
    issuer_dn: formatDn(cert.issuer as unknown as Record<string, string | string[]>),
    serial_number: cert.serialNumber,
    fingerprint_sha256: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
    san_uri: uris,
    san_dns: pick('DNS'),
    san_email: pick('email'),
    san_ip: pick('IP Address'),
    spiffe_id: spiffe,
    not_before: Math.floor(Date.parse(cert.valid_from) / 1000),
    not_after: Math.floor(Date.parse(cert.valid_to) / 1000),
  };
}

/** The principal of a verified client certificate: subject = SPIFFE ID, else the subject DN. */
export function certPrincipal(cert: PeerCertificate): Principal {
  const c = certClaims(cert);
  const cn = (cert.subject as unknown as Record<string, string | string[]> | undefined)?.CN;
  return withMemo({
    kind: 'client',
    subject: c.spiffe_id ?? c.subject_dn,
    issuer: c.issuer_dn,
    provider: 'mtls',
    method: 'mtls',
    name: Array.isArray(cn) ? cn[0] : cn,
    email: c.san_email[0],
    groups: [],
    roles: [],
    scopes: [],
    clientId: c.spiffe_id ?? c.subject_dn,
    expiresAt: c.not_after,
    credentialId: `sha256:${c.fingerprint_sha256}`,
    claims: c as unknown as Record<string, unknown>,
  });
}

const bySocket = new WeakMap<object, Principal>();

/**
 * The `mtls` authenticator: a client certificate verified by the listener (`tls.client_ca`)
 * becomes a `client` principal. No certificate → `none` (the next authenticator or 401); a
 * certificate (or chain) with a weak key or signature → 401 `GH_CLIENT_CERT_WEAK`, checked first
 * because OpenSSL reports some weak chains (SHA-1) only as an unspecified verification failure;
 * a certificate that did not verify (possible with `client_certificate: request`) → 401
 * `GH_CLIENT_CERT_INVALID`. The principal is cached per TLS connection.
 */
export function mtlsAuthenticator(): Authenticator {
  return {
    id: 'mtls',
    authenticate(ctx): AuthnResult {
      const socket = ctx.req.socket;
      const hit = bySocket.get(socket);
      if (hit) return { kind: 'ok', principal: hit };
      const c = clientCertOf(socket);
      if (!c) return AUTHN_NONE;
      if (c.weakness) throw weakCertError(c.weakness);
      if (!c.authorized) {
        throw new GatehouseError(
          'GH_CLIENT_CERT_INVALID',
          `client certificate rejected: ${c.authorizationError ?? 'not verified'}`,
          {
            reasons: ['mtls.cert.invalid'],
          },
        );
      }
      const principal = certPrincipal(c.cert);
      bySocket.set(socket, principal);
      return { kind: 'ok', principal };
    },
  };
}

/** Factory for `auth: mtls` (src/authn/registry.ts). Warns when no listener verifies client certificates. */
export function mtlsFactory(
  _route: AuthnRoute,
  keyPath: string,
  cctx: CompileContext<AuthnGlobals>,
): Authenticator {
  const verifying = cctx.config.server.listeners.some(
    (l) => l.tls?.client_ca !== undefined && l.tls.client_certificate !== 'none',
  );
  if (!verifying) {
    cctx.issue(
      `${keyPath}.auth`,
      'mtls needs a listener with tls.client_ca and tls.client_certificate: request or require; without one every request is refused',
      'warning',
    );
  }
  return mtlsAuthenticator();
}
