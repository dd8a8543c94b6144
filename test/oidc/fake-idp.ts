import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** How the fake provider misbehaves on the next code exchange. */
export type FakeMode =
  'ok' | 'wrong-nonce' | 'wrong-aud' | 'wrong-iss' | 'no-nonce' | 'bad-signature' | 'token-error';

/**
 * A deliberately minimal, scriptable OpenID provider for negative tests only: it signs ID tokens
 * with whatever claims the current `mode` dictates (wrong nonce, audience, issuer, signature), so
 * the tests can prove Gatehouse refuses them. Positive flows use the real embedded provider.
 */
export interface FakeIdp {
  readonly issuer: string;
  mode: FakeMode;
  /** Signs an arbitrary JWT with the provider key (logout tokens…). */
  sign(claims: Record<string, unknown>, typ?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startFakeIdp(clientId: string): Promise<FakeIdp> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const nonces = new Map<string, string>();
  let issuer = '';
  const state = { mode: 'ok' as FakeMode };
  const sign = (claims: Record<string, unknown>, key: CryptoKey = privateKey, typ = 'JWT') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ }).sign(key);
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', issuer);
    const json = (status: number, v: unknown) => {
      const body = JSON.stringify(v);
      res
        .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        .end(body);
    };
    if (u.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        end_session_endpoint: `${issuer}/logout`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
    }
    if (u.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (u.pathname === '/authorize') {
      const code = `code-${Math.random().toString(36).slice(2)}`;
      nonces.set(code, u.searchParams.get('nonce') ?? '');
      const back = new URL(u.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', u.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (u.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const code = new URLSearchParams(body).get('code') ?? '';
        const nonce = nonces.get(code);
        if (nonce === undefined || state.mode === 'token-error')
          return json(400, { error: 'invalid_grant', error_description: 'unknown code' });
        const now = Math.floor(Date.now() / 1000);
        const m = state.mode;
        const claims: Record<string, unknown> = {
          iss: m === 'wrong-iss' ? 'https://someone-else.example' : issuer,
          aud: m === 'wrong-aud' ? 'another-client' : clientId,
          sub: 'mallory',
          iat: now,
          exp: now + 300,
        };
        if (m !== 'no-nonce') claims.nonce = m === 'wrong-nonce' ? 'not-the-nonce' : nonce;
        void sign(claims, m === 'bad-signature' ? other.privateKey : privateKey).then((idToken) =>
          json(200, { access_token: 'opaque-at', token_type: 'Bearer', expires_in: 300, id_token: idToken }),
        );
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    get mode() {
      return state.mode;
    },
    set mode(v: FakeMode) {
      state.mode = v;
    },
    sign: (claims, typ) => sign(claims, privateKey, typ),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
