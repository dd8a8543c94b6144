/**
 * The demo app's check of Gatehouse's signed assertion, as an upstream should do it: verify
 * `X-Gatehouse-Assertion` against Gatehouse's JWKS (jose `createRemoteJWKSet`, refetched on an
 * unknown `kid`) with the expected issuer, audience and algorithms, and report the result.
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { IncomingMessage } from 'node:http';

/** Where the demo app checks assertions (Gatehouse's JWKS URL and the route's settings). */
export interface DemoAssertionOptions {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** Default `X-Gatehouse-Assertion`. */
  readonly header?: string;
}

/** The result shown on the page and in `/api/whoami`. */
export interface AssertionCheck {
  readonly header: string;
  readonly verified: boolean;
  /** Why verification failed (jose's error code and message). */
  readonly error?: string;
  readonly alg?: string;
  readonly kid?: string;
  readonly claims?: JWTPayload;
}

/** A verifier bound to one JWKS URL; `check` returns undefined when no assertion was sent. */
export type AssertionChecker = (req: IncomingMessage) => Promise<AssertionCheck | undefined>;

/** Builds the checker (the JWKS is fetched on first use and cached by jose). */
export function assertionChecker(opts: DemoAssertionOptions): AssertionChecker {
  const header = opts.header ?? 'X-Gatehouse-Assertion';
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 5000 });
  return async (req) => {
    const raw = req.headers[header.toLowerCase()];
    if (raw === undefined) return undefined;
    const token = Array.isArray(raw) ? raw.join(',') : raw;
    let alg: string | undefined;
    let kid: string | undefined;
    try {
      const h = decodeProtectedHeader(token);
      alg = h.alg;
      kid = h.kid;
    } catch {
      return { header, verified: false, error: 'not a JWS' };
    }
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: ['ES256', 'RS256', 'ES384', 'PS256', 'EdDSA'],
      });
      return { header, verified: true, alg, kid, claims: payload };
    } catch (e) {
      const code = e instanceof errors.JOSEError ? `${e.code}: ` : '';
      return { header, verified: false, alg, kid, error: `${code}${(e as Error).message}` };
    }
  };
}
