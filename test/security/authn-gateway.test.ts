import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { startIdp, generateIdpKey, type IdpServer, type IdpKey } from '../helpers/idp-server.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

describe('bearer attacks through the real gateway: exact status and code, no upstream request, one audit event', () => {
  let idp: IdpServer;
  let other: IdpServer;
  let up: RecordingUpstream;
  let gh: TestGateway;
  let rsa: IdpKey;
  let ec: IdpKey;

  before(async () => {
    idp = await startIdp({ algs: ['RS256', 'ES256'], issuerPath: '/v2.0' });
    other = await startIdp({ algs: [] });
    [rsa, ec] = idp.keys as [IdpKey, IdpKey];
    await other.addKey('RS256', { kid: rsa.kid });
    up = await startUpstream();
    gh = await startGatehouse({
      upstreams: { app: { url: up.url } },
      providers: {
        corp: {
          issuer: idp.issuer,
          preset: 'entra',
          audiences: [idp.audience],
          login_client_ids: ['spa'],
          jwks_cooldown: '2s',
        },
        partner: { issuer: other.issuer, audiences: [other.audience], jwks_uri: other.jwksUri },
        opaque: {
          issuer: `${idp.issuer}/opaque`,
          discovery: false,
          token_type: 'opaque',
          audiences: [idp.audience],
          introspection: {
            endpoint: `${other.origin}/introspect`,
            client_id: 'gatehouse',
            client_secret: 'introspection-secret',
          },
        },
      },
      routes: [
        {
          name: 'api',
          match: { path: '/api' },
          upstream: 'app',
          auth: 'bearer',
          providers: ['corp', 'partner'],
          rules: [{ name: 'staff', effect: 'allow', when: { group: 'staff' } }],
        },
        {
          name: 'legacy',
          match: { path: '/legacy' },
          upstream: 'app',
          auth: 'bearer',
          providers: ['opaque'],
          rules: [{ name: 'any', effect: 'allow', when: { authenticated: true } }],
        },
      ],
    });
  });
  after(async () => {
    await gh?.close();
    await up?.close();
    await idp?.close();
    await other?.close();
  });

  async function expectRefused(
    headers: Array<[string, string]>,
    status: number,
    code: string,
    reason?: string,
    path = '/api/orders',
  ): Promise<void> {
    const upBefore = up.received.length;
    const auditBefore = gh.audit.length;
    const r = await send(gh.url, path, { headers });
    assert.equal(r.status, status, `${code}: ${r.body}`);
    assert.equal(r.json().error, code);
    assert.equal(up.received.length, upBefore, 'nothing reached the upstream');
    await new Promise((res) => setImmediate(res));
    assert.equal(gh.audit.length - auditBefore, 1, 'exactly one audit event');
    const ev = gh.audit.at(-1);
    assert.equal(ev?.status, status);
    assert.equal(ev?.error, code);
    if (reason)
      assert.ok(ev?.reasons.includes(reason), `reasons ${JSON.stringify(ev?.reasons)} include ${reason}`);
    const token = headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1].slice(7) ?? '';
    if (token.length > 20) {
      const sig = token.split('.')[2] || token;
      assert.ok(
        !r.body.includes(sig) && !JSON.stringify(ev).includes(sig),
        'the token is never echoed or audited',
      );
    }
    if (status === 401 && headers.length > 0)
      assert.match(
        String(r.headers['www-authenticate']),
        /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/(api|legacy)", realm="gatehouse", error="invalid_token"/,
      );
  }

  const auth = (t: string): Array<[string, string]> => [['Authorization', `Bearer ${t}`]];

  it('a valid token with the group reaches the upstream once, audited with provider, subject and credential id', async () => {
    const n = up.received.length;
    const r = await send(gh.url, '/api/orders', {
      headers: auth(
        await idp.token({ oid: 'oid-alice', scp: 'Orders.Read', groups: ['staff'], jti: 'jti-1' }),
      ),
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(up.received.length, n + 1);
    const ev = gh.audit.at(-1);
    assert.deepEqual(
      [ev?.decision, ev?.provider, ev?.subject, ev?.credential_id],
      ['allow', 'corp', 'oid-alice', 'jti-1'],
    );
  });

  it('no token: 401 with a bare Bearer challenge naming the RFC 9728 metadata, which names the IdP', async () => {
    await expectRefused([], 401, 'GH_UNAUTHENTICATED');
    const r = await send(gh.url, '/api/orders');
    const url = `${gh.url}/.well-known/oauth-protected-resource/api`;
    assert.equal(r.headers['www-authenticate'], `Bearer resource_metadata="${url}", realm="gatehouse"`);
    const meta = await send(gh.url, '/.well-known/oauth-protected-resource/api');
    assert.equal(meta.status, 200);
    assert.ok((meta.json().authorization_servers as string[]).includes(idp.issuer), meta.body);
  });

  it('refuses every class of forged or unacceptable token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = await idp.token({ groups: ['staff'], scp: 's' });
    const [h, p] = good.split('.') as [string, string];
    const evil = await generateIdpKey('RS256', 'evil');
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const cases: Array<[string, number, string, string]> = [
      [
        idp.signRaw({ alg: 'none' }, idp.claims()) + b64('x'),
        401,
        'GH_TOKEN_INVALID',
        'token.alg_not_allowed',
      ],
      [idp.signRaw({ alg: 'NoNe' }, idp.claims()), 401, 'GH_TOKEN_MALFORMED', 'token.malformed'],
      [
        idp.signRaw({ alg: 'HS256', kid: rsa.kid }, idp.claims(), { hmacSecret: pem }),
        401,
        'GH_TOKEN_INVALID',
        'token.alg_not_allowed',
      ],
      [`${h}.${p}.${b64(randomBytes(256))}`, 401, 'GH_TOKEN_INVALID', 'token.signature'],
      [
        idp.signRaw({ alg: 'RS256', kid: 'evil', jwk: evil.jwk }, idp.claims(), evil),
        401,
        'GH_TOKEN_INVALID',
        'token.header_untrusted_key',
      ],
      [
        idp.signRaw({ alg: 'RS256', kid: 'evil', jku: `${other.origin}/jwks` }, idp.claims(), evil),
        401,
        'GH_TOKEN_INVALID',
        'token.header_untrusted_key',
      ],
      [
        idp.signRaw({ alg: 'RS256', kid: 'evil', x5u: `${other.origin}/x` }, idp.claims(), evil),
        401,
        'GH_TOKEN_INVALID',
        'token.header_untrusted_key',
      ],
      [
        await idp.token({ iss: other.issuer, aud: other.audience }, { key: rsa }),
        401,
        'GH_TOKEN_INVALID',
        'token.signature',
      ],
      [await idp.token({}, { key: evil }), 401, 'GH_TOKEN_INVALID', 'token.kid_unknown'],
      [await idp.token({ exp: now - 120 }), 401, 'GH_TOKEN_EXPIRED', 'token.expired'],
      [await idp.token({ nbf: now + 600 }), 401, 'GH_TOKEN_NOT_YET_VALID', 'token.not_yet_valid'],
      [await idp.token({ iat: now + 600 }), 401, 'GH_TOKEN_NOT_YET_VALID', 'token.iat_future'],
      [await idp.token({ iss: 'https://evil.example' }), 401, 'GH_TOKEN_ISSUER', 'token.issuer'],
      [await idp.token({ aud: 'api://other' }), 401, 'GH_TOKEN_AUDIENCE', 'token.audience'],
      [await idp.token({}, { header: { typ: 'dpop+jwt' } }), 401, 'GH_TOKEN_TYPE', 'token.typ'],
      [await idp.token({ nonce: 'abc' }, { header: { typ: 'JWT' } }), 401, 'GH_TOKEN_TYPE', 'token.id_token'],
      [
        await idp.token({ aud: 'spa' }, { header: { typ: 'JWT' } }),
        401,
        'GH_TOKEN_AUDIENCE',
        'token.audience',
      ],
      [
        await idp.token({ aud: ['spa', idp.audience] }, { header: { typ: 'JWT' } }),
        401,
        'GH_TOKEN_TYPE',
        'token.id_token',
      ],
      [
        idp.signRaw({ alg: 'ES256', kid: ec.kid, crit: ['exp'], exp: 1 }, idp.claims(), ec),
        401,
        'GH_TOKEN_INVALID',
        'token.crit_unsupported',
      ],
      [`${h}.${p}=.${b64('sig')}`, 401, 'GH_TOKEN_MALFORMED', 'token.malformed'],
      [`${b64('{"alg":')}.${p}.${b64('sig')}`, 401, 'GH_TOKEN_MALFORMED', 'token.malformed'],
      [await idp.token({ oid: 42 }), 401, 'GH_TOKEN_INVALID', 'token.claim_type'],
      [await idp.token({ groups: 'staff', roles: [1] }), 401, 'GH_TOKEN_INVALID', 'token.claim_type'],
    ];
    for (const [token, status, code, reason] of cases) await expectRefused(auth(token), status, code, reason);
  });

  it('oversized and doubled credentials', async () => {
    const t = await idp.token({ groups: ['staff'] });
    await expectRefused([...auth(t), ...auth(t)], 400, 'GH_TOKEN_MULTIPLE', 'token.multiple');
    const big = `${'A'.repeat(16 * 1024)}.${'B'.repeat(100)}.${'C'.repeat(100)}`;
    const r = await send(gh.url, '/api/orders', { headers: auth(big) });
    assert.ok([401, 431].includes(r.status), `oversized header: ${r.status}`);
    assert.ok(
      ['GH_TOKEN_MALFORMED', 'GH_HEADERS_TOO_LARGE'].includes(String(r.json().error)),
      "['GH_TOKEN_MALFORMED', 'GH_HEADERS_TOO_LARGE'].includes(String(r.json().error))",
    );
  });

  it('a random-kid storm through the gateway costs at most one JWKS fetch per cooldown', async () => {
    const evil = await generateIdpKey('RS256');
    await new Promise((r) => setTimeout(r, 2100));
    const before = idp.counts.jwks;
    const n = up.received.length;
    const replies = await Promise.all(
      Array.from({ length: 100 }, () =>
        send(gh.url, '/api/orders', {
          headers: auth(idp.signRaw({ alg: 'RS256', kid: randomUUID() }, idp.claims(), evil)),
        }),
      ),
    );
    assert.ok(
      replies.every((r) => r.status === 401 && r.json().error === 'GH_TOKEN_INVALID'),
      "replies.every((r) => r.status === 401 && r.json().error === 'GH_TOKEN_INVALID')",
    );
    assert.ok(idp.counts.jwks - before <= 1, `${idp.counts.jwks - before} fetches`);
    assert.equal(up.received.length, n);
  });

  it('introspection down: 503 GH_IDP_UNAVAILABLE, nothing forwarded', async () => {
    other.outage = '503';
    try {
      await expectRefused(
        auth('opaque-token-value-1'),
        503,
        'GH_IDP_UNAVAILABLE',
        'idp.unavailable',
        '/legacy/x',
      );
    } finally {
      other.outage = 'none';
    }
    await expectRefused(auth('opaque-token-value-2'), 401, 'GH_TOKEN_INVALID', 'token.inactive', '/legacy/x');
  });
});
