import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

/** A tiny token issuer: a JWKS over HTTP on 127.0.0.1 and a function minting access tokens. */
export interface TestIdp {
  readonly issuer: string;
  readonly jwksUri: string;
  /** Gatehouse `providers.<name>` entry for this issuer. */
  readonly provider: Record<string, unknown>;
  token(claims: JWTPayload & { sub: string }, ttlSec?: number): Promise<string>;
  close(): Promise<void>;
}

/** Starts a {@link TestIdp} whose tokens carry `aud: audience`. */
export async function startIdp(audience = 'api://gatehouse-tests'): Promise<TestIdp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const body = JSON.stringify({ keys: [jwk] });
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/tenant-1/v2.0`;
  return {
    issuer,
    jwksUri: `${base}/keys`,
    provider: {
      issuer,
      jwks_uri: `${base}/keys`,
      discovery: false,
      audiences: [audience],
      algorithms: ['ES256'],
    },
    token: (claims, ttlSec = 600) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSec}s`)
        .setJti(crypto.randomUUID())
        .sign(privateKey),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
