import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { startIdp, generateIdpKey, type IdpServer, type IdpKey } from '../helpers/idp-server.js';
import { bearer, bearerFor, registryFor, run, type Outcome } from '../authn/fixtures.js';
import type { ProviderRegistry } from '../../src/authn/providers.js';
import type { Authenticator } from '../../src/pipeline/stages.js';

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

function expectDenied(o: Outcome, status: number, code: string, reason: string, token?: string): void {
  assert.equal(o.ok, false, `expected ${code}, got a principal`);
  assert.ok(!('none' in o), `expected ${code}, got "no credential"`);
  const d = o as Extract<Outcome, { status: number }>;
  assert.deepEqual([d.status, d.code, d.reasons[0]], [status, code, reason], d.detail);
  if (status === 401) {
    const h = d.headers?.['WWW-Authenticate'] ?? '';
    assert.match(h, /^Bearer realm="gatehouse", error="invalid_token", error_description="[^"]+"$/);
    if (token) {
      assert.ok(!h.includes(token.slice(0, 20)), 'the challenge never echoes the token');
      const sig = token.split('.')[2] || token;
      assert.ok(!(d.detail ?? '').includes(sig), 'the detail never carries the token');
    }
  }
}

describe('bearer token attacks (issue 3 point 11)', () => {
  let a: IdpServer;
  let b: IdpServer;
  let registry: ProviderRegistry;
  let auth: Authenticator;
  let strictAuth: Authenticator;
  let mixedAuth: Authenticator;
  let rsa: IdpKey;
  let ec: IdpKey;
  let ed: IdpKey;
  const secret = 'a-shared-secret-of-at-least-32-characters!';

  before(async () => {
    a = await startIdp({ algs: ['RS256', 'ES256', 'EdDSA'], issuerPath: '/tenant-a/v2.0' });
    b = await startIdp({ algs: [], issuerPath: '/tenant-b' });
    [rsa, ec, ed] = a.keys as [IdpKey, IdpKey, IdpKey];
    await b.addKey('RS256', { kid: rsa.kid }); // colliding kid: same name, different key
    registry = registryFor({
      a: { issuer: a.issuer, audiences: [a.audience], login_client_ids: ['spa-client'], jwks_cooldown: '1s' },
      b: { issuer: b.issuer, audiences: [b.audience], jwks_uri: b.jwksUri, jwks_cooldown: '1s' },
      strict: {
        issuer: `${a.issuer}/strict`,
        jwks_uri: a.jwksUri,
        audiences: [a.audience],
        required_typ: 'at+jwt',
        max_token_age: '10m',
      },
      mixed: {
        issuer: `${a.issuer}/mixed`,
        jwks_uri: a.jwksUri,
        audiences: [a.audience],
        algorithms: ['RS256', 'HS256'],
        shared_secret: secret,
      },
    });
    await registry.start();
    auth = bearerFor(registry, { providers: ['a', 'b'] });
    strictAuth = bearerFor(registry, { providers: ['strict'] });
    mixedAuth = bearerFor(registry, { providers: ['mixed'] });
  });
  after(async () => {
    await registry.close();
    await a.close();
    await b.close();
  });

  it('accepts valid RS256, ES256 and EdDSA tokens (sanity)', async () => {
    for (const key of [rsa, ec, ed]) {
      const o = await run(auth, bearer(await a.token({ sub: `u-${key.alg}` }, { key })));
      assert.ok(o.ok, JSON.stringify(o));
      assert.equal(o.principal.subject, `u-${key.alg}`);
      assert.equal(o.principal.provider, 'a');
    }
  });

  it('alg none in any case is refused', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const stripped = a.signRaw({ alg, typ: 'JWT' }, a.claims());
      expectDenied(await run(auth, bearer(stripped)), 401, 'GH_TOKEN_MALFORMED', 'token.malformed', stripped);
      const withSig = `${stripped}${b64('x')}`;
      expectDenied(
        await run(auth, bearer(withSig)),
        401,
        'GH_TOKEN_INVALID',
        'token.alg_not_allowed',
        withSig,
      );
    }
  });

  it('RS/HS confusion: HS256 signed with the RSA public key is refused', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const jwkText = JSON.stringify(rsa.jwk);
    for (const material of [pem, jwkText, rsa.publicKey.export({ type: 'pkcs1', format: 'der' })]) {
      const t = a.signRaw({ alg: 'HS256', kid: rsa.kid }, a.claims(), { hmacSecret: material });
      expectDenied(await run(auth, bearer(t)), 401, 'GH_TOKEN_INVALID', 'token.alg_not_allowed', t);
      const tm = a.signRaw({ alg: 'HS256', kid: rsa.kid }, a.claims({ iss: `${a.issuer}/mixed` }), {
        hmacSecret: material,
      });
      expectDenied(await run(mixedAuth, bearer(tm)), 401, 'GH_TOKEN_INVALID', 'token.signature', tm);
    }
    const good = a.signRaw({ alg: 'HS256' }, a.claims({ iss: `${a.issuer}/mixed` }), { hmacSecret: secret });
    assert.ok((await run(mixedAuth, bearer(good))).ok, 'HS256 with the configured shared_secret verifies');
  });

  it('stripped, swapped and forged signatures are refused', async () => {
    const t = await a.token();
    const [h, p, s] = t.split('.') as [string, string, string];
    expectDenied(await run(auth, bearer(`${h}.${p}.`)), 401, 'GH_TOKEN_MALFORMED', 'token.malformed');
    // Not three segments: not a JWS, and no provider on this route introspects opaque tokens.
    expectDenied(await run(auth, bearer(`${h}.${p}`)), 401, 'GH_TOKEN_MALFORMED', 'token.not_jwt');
    const other = (await a.token({ sub: 'admin' })).split('.');
    const swapped = `${h}.${other[1]}.${s}`;
    expectDenied(await run(auth, bearer(swapped)), 401, 'GH_TOKEN_INVALID', 'token.signature', swapped);
    const forged = `${h}.${p}.${b64(randomBytes(256))}`;
    expectDenied(await run(auth, bearer(forged)), 401, 'GH_TOKEN_INVALID', 'token.signature', forged);
    const ecShort = (await a.token({}, { key: ec })).split('.');
    const truncated = `${ecShort[0]}.${ecShort[1]}.${b64(randomBytes(32))}`;
    expectDenied(await run(auth, bearer(truncated)), 401, 'GH_TOKEN_INVALID', 'token.signature', truncated);
  });

  it('embedded jwk, jku, x5u and x5c headers are never followed', async () => {
    const evil = await generateIdpKey('RS256', 'evil');
    const cert = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA';
    for (const extra of [
      { jwk: evil.jwk },
      { jku: `${b.origin}/jwks` },
      { x5u: `${b.origin}/cert.pem` },
      { x5c: [cert] },
      { jwk: rsa.jwk },
    ]) {
      const t = a.signRaw({ alg: 'RS256', kid: 'evil', ...extra }, a.claims(), evil);
      expectDenied(await run(auth, bearer(t)), 401, 'GH_TOKEN_INVALID', 'token.header_untrusted_key', t);
    }
    const fetches = b.counts.jwks;
    assert.equal(b.counts.jwks, fetches, 'no request went to the jku/x5u URL');
  });

  it('a kid known to provider A never verifies a token claiming provider B', async () => {
    const t = await a.token({ iss: b.issuer, aud: b.audience }, { key: rsa });
    expectDenied(await run(auth, bearer(t)), 401, 'GH_TOKEN_INVALID', 'token.signature', t);
    const t2 = await a.token({ iss: b.issuer, aud: b.audience }, { key: ec });
    expectDenied(await run(auth, bearer(t2)), 401, 'GH_TOKEN_INVALID', 'token.kid_unknown', t2);
    const own = await b.token({}, { key: b.keys[0] });
    assert.ok((await run(auth, bearer(own))).ok, "B's own key verifies B's token");
  });

  it('an unknown kid is refused', async () => {
    const stray = await generateIdpKey('RS256', 'never-published');
    const t = await a.token({}, { key: stray });
    expectDenied(await run(auth, bearer(t)), 401, 'GH_TOKEN_INVALID', 'token.kid_unknown', t);
  });

  it('expired, not-yet-valid, future-iat and over-age tokens are refused; skew is honoured', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ exp: now - 61 }, 'GH_TOKEN_EXPIRED', 'token.expired'],
      [{ nbf: now + 120 }, 'GH_TOKEN_NOT_YET_VALID', 'token.not_yet_valid'],
      [{ iat: now + 120 }, 'GH_TOKEN_NOT_YET_VALID', 'token.iat_future'],
      [{ exp: undefined }, 'GH_TOKEN_INVALID', 'token.claim_missing'],
    ];
    for (const [claims, code, reason] of cases) {
      const t = await a.token(claims);
      expectDenied(await run(auth, bearer(t)), 401, code, reason, t);
    }
    assert.ok(
      (await run(auth, bearer(await a.token({ exp: now - 30, nbf: now + 30, iat: now + 30 })))).ok,
      'within clock_skew (60s)',
    );
    const old = await a.token({ iss: `${a.issuer}/strict`, iat: now - 700, exp: now + 600 });
    expectDenied(await run(strictAuth, bearer(old)), 401, 'GH_TOKEN_EXPIRED', 'token.too_old', old);
    assert.ok(
      (await run(strictAuth, bearer(await a.token({ iss: `${a.issuer}/strict`, iat: now - 500 })))).ok,
      '(await run(strictAuth, bearer(await a.token({ iss: `${a.issuer}/strict`, iat: now - 500 })))).ok',
    );
  });

  it('wrong iss, aud and typ are refused', async () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>, string, string]> = [
      [{ iss: 'https://evil.example/' }, {}, 'GH_TOKEN_ISSUER', 'token.issuer'],
      [{ iss: undefined }, {}, 'GH_TOKEN_ISSUER', 'token.issuer'],
      [{ iss: `${a.issuer}/` }, {}, 'GH_TOKEN_ISSUER', 'token.issuer'],
      [{ aud: 'api://other' }, {}, 'GH_TOKEN_AUDIENCE', 'token.audience'],
      [{ aud: undefined }, {}, 'GH_TOKEN_AUDIENCE', 'token.audience'],
      [{ aud: ['api://other', 'x'] }, {}, 'GH_TOKEN_AUDIENCE', 'token.audience'],
      [{}, { typ: 'dpop+jwt' }, 'GH_TOKEN_TYPE', 'token.typ'],
      [{}, { typ: 'logout+jwt' }, 'GH_TOKEN_TYPE', 'token.typ'],
    ];
    for (const [claims, header, code, reason] of cases) {
      const t = await a.token(claims, { header });
      expectDenied(await run(auth, bearer(t)), 401, code, reason, t);
    }
    const jwtTyp = await a.token({ iss: `${a.issuer}/strict` }, { header: { typ: 'JWT' } });
    expectDenied(await run(strictAuth, bearer(jwtTyp)), 401, 'GH_TOKEN_TYPE', 'token.typ', jwtTyp);
    assert.ok(
      (
        await run(
          strictAuth,
          bearer(await a.token({ iss: `${a.issuer}/strict` }, { header: { typ: 'application/AT+JWT' } })),
        )
      ).ok,
      "(await run(strictAuth, bearer(await a.token({ iss: `${a.issuer}/strict` }, { header: { typ: 'application/AT+JWT' } })))).ok",
    );
    assert.ok(
      (await run(auth, bearer(await a.token({ aud: ['x', a.audience] }, { header: { typ: 'JWT' } })))).ok,
      "(await run(auth, bearer(await a.token({ aud: ['x', a.audience] }, { header: { typ: 'JWT' } })))).ok",
    );
  });

  it('an ID token presented as an access token is refused', async () => {
    const withNonce = await a.token({ nonce: 'n-0S6_WzA2Mj' }, { header: { typ: 'JWT' } });
    expectDenied(await run(auth, bearer(withNonce)), 401, 'GH_TOKEN_TYPE', 'token.id_token', withNonce);
    const toSpa = await a.token({ aud: ['spa-client', a.audience] }, { header: { typ: 'JWT' } });
    expectDenied(await run(auth, bearer(toSpa)), 401, 'GH_TOKEN_TYPE', 'token.id_token', toSpa);
    assert.ok(
      (await run(auth, bearer(await a.token({ aud: ['spa-client', a.audience], scp: 'read' })))).ok,
      'an access token with scopes is fine',
    );
  });

  it('crit headers are refused, whatever they name', async () => {
    for (const crit of [['exp'], ['b64'], [], 'x']) {
      const t = a.signRaw({ alg: 'RS256', kid: rsa.kid, crit, exp: 1, b64: true }, a.claims(), rsa);
      expectDenied(await run(auth, bearer(t)), 401, 'GH_TOKEN_INVALID', 'token.crit_unsupported', t);
    }
  });

  it('malformed base64 and JSON are refused without verification', async () => {
    const t = await a.token();
    const [h, p, s] = t.split('.') as [string, string, string];
    const bad = [
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s}==`,
      `${h}.${p.slice(0, 10)}+${p.slice(11)}.${s}`,
      `${b64('{"alg":"RS256"')}.${p}.${s}`,
      `${h}.${b64('[1,2]')}.${s}`,
      `${h}.${b64('null')}.${s}`,
      `${b64(Buffer.from([0xff, 0xfe]))}.${p}.${s}`,
    ];
    for (const x of bad)
      expectDenied(
        await run(auth, [['Authorization', `Bearer ${x}`]]),
        401,
        'GH_TOKEN_MALFORMED',
        'token.malformed',
        x,
      );
    for (const x of [`${h}..${p}.${s}`, `${h}.${p}.${s}.`, `${h}${p}${s}`]) {
      expectDenied(await run(auth, bearer(x)), 401, 'GH_TOKEN_MALFORMED', 'token.not_jwt', x);
    }
    expectDenied(
      await run(auth, [['Authorization', `Bearer ${h}. ${p}.${s}`]]),
      401,
      'GH_TOKEN_MALFORMED',
      'token.malformed',
    );
    expectDenied(
      await run(auth, [['Authorization', `Bearer ${h}.${p}.${s} x`]]),
      401,
      'GH_TOKEN_MALFORMED',
      'token.malformed',
    );
  });

  it('oversized tokens are refused before parsing: 16 KiB at the source, max_token_bytes (8 KiB) per provider', async () => {
    const big = await a.token({ pad: 'x'.repeat(17 * 1024) });
    expectDenied(await run(auth, bearer(big)), 401, 'GH_TOKEN_MALFORMED', 'token.too_large');
    const overDefault = await a.token({ pad: 'x'.repeat(7 * 1024) });
    expectDenied(await run(auth, bearer(overDefault)), 401, 'GH_TOKEN_MALFORMED', 'token.too_large');
    const justUnder = await a.token({ pad: 'x'.repeat(5 * 1024) });
    assert.ok(justUnder.length < 8192 && (await run(auth, bearer(justUnder))).ok, 'under 8 KiB passes');
  });

  it('non-string claims where strings are expected are refused', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ sub: 123 }, 'GH_TOKEN_INVALID', 'token.claim_type'],
      [{ sub: { id: 'x' } }, 'GH_TOKEN_INVALID', 'token.claim_type'],
      [{ iss: 123 }, 'GH_TOKEN_ISSUER', 'token.issuer'],
      [{ exp: String(Math.floor(Date.now() / 1000) + 600) }, 'GH_TOKEN_INVALID', 'token.claim_type'],
      [{ groups: ['admins', 1] }, 'GH_TOKEN_INVALID', 'token.claim_type'],
      [{ email: ['a@example.com'] }, 'GH_TOKEN_INVALID', 'token.claim_type'],
      [{ aud: [a.audience, 7] }, 'GH_TOKEN_INVALID', 'token.claim_type'],
      [{ jti: 5 }, 'GH_TOKEN_INVALID', 'token.claim_type'],
      [{ sub: '' }, 'GH_TOKEN_INVALID', 'token.claim_blank'],
    ];
    for (const [claims, code, reason] of cases) {
      const t = await a.token(claims);
      expectDenied(await run(auth, bearer(t)), 401, code, reason, t);
    }
  });

  it('undersized RSA keys and private keys published in the JWKS never verify', async () => {
    const idp = await startIdp({ algs: [] });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const small = {
      kid: 'small',
      alg: 'RS256' as const,
      privateKey,
      publicKey,
      jwk: { ...publicKey.export({ format: 'jwk' }), kid: 'small', alg: 'RS256' },
    };
    idp.keys.push(small);
    const priv = await generateIdpKey('RS256', 'priv');
    idp.keys.push({
      ...priv,
      jwk: { ...(priv.privateKey.export({ format: 'jwk' }) as object), kid: 'priv', alg: 'RS256' },
    });
    const reg = registryFor({ p: { issuer: idp.issuer, audiences: [idp.audience] } });
    try {
      await reg.start();
      const au = bearerFor(reg);
      expectDenied(
        await run(au, bearer(idp.signRaw({ alg: 'RS256', kid: 'small' }, idp.claims(), small))),
        401,
        'GH_TOKEN_INVALID',
        'token.key_unusable',
      );
      expectDenied(
        await run(au, bearer(await idp.token({}, { key: priv }))),
        401,
        'GH_TOKEN_INVALID',
        'token.key_unusable',
      );
    } finally {
      await reg.close();
      await idp.close();
    }
  });
});
