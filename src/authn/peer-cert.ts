import { createHash } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { GatehouseError } from '../errors/index.js';
import { chainWeakness, type CertWeakness } from './cert-strength.js';

/** The client certificate of one TLS connection, examined once. */
export interface ClientCert {
  readonly cert: DetailedPeerCertificate;
  /** True when the certificate chained to the listener's `tls.client_ca` (and is in date). */
  readonly authorized: boolean;
  readonly authorizationError: string | undefined;
  /** Set when the certificate or its chain uses a weak key or signature. */
  readonly weakness: CertWeakness | undefined;
  /** `x5t#S256`: base64url SHA-256 of the DER certificate (RFC 8705 §3.1). */
  readonly x5t: string;
}

const byConnection = new WeakMap<object, ClientCert | null>();

/**
 * The client certificate presented on `socket` (the request's `ctx.req.socket`), or undefined
 * on plain connections and TLS connections without one. Computed once per connection: the
 * thumbprint and the strength verdict are then a WeakMap lookup away.
 */
export function clientCertOf(socket: unknown): ClientCert | undefined {
  if (typeof socket !== 'object' || socket === null) return undefined;
  const known = byConnection.get(socket);
  if (known !== undefined) return known ?? undefined;
  const tls = socket as Partial<TLSSocket>;
  let found: ClientCert | null = null;
  if (typeof tls.getPeerCertificate === 'function') {
    const cert = tls.getPeerCertificate(true);
    if (cert && cert.raw !== undefined && Object.keys(cert).length > 0) {
      found = Object.freeze({
        cert,
        authorized: tls.authorized === true,
        authorizationError:
          tls.authorizationError === undefined || tls.authorizationError === null
            ? undefined
            : String(tls.authorizationError),
        weakness: chainWeakness(cert),
        x5t: createHash('sha256').update(cert.raw).digest('base64url'),
      });
    }
  }
  byConnection.set(socket, found);
  return found ?? undefined;
}

/** 401 `GH_CLIENT_CERT_WEAK` for a certificate refused by {@link chainWeakness}. */
export function weakCertError(w: CertWeakness): GatehouseError {
  return new GatehouseError('GH_CLIENT_CERT_WEAK', w.detail, { reasons: [w.reason] });
}
