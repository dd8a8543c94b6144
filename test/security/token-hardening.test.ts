import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { startIdp, type IdpKey, type IdpServer } from '../helpers/idp-server.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send, type Reply } from '../helpers/http.js';
import { explainToken } from '../../src/authn/explain.js';
import type { ProviderRegistry } from '../../src/authn/providers.js';

// Issue 12 item 4 through a real gateway: unusable JWKS keys, implausible and over-long
// lifetimes, per-provider token size, control characters and blank identifiers in claims,
// OAuth tokens in the query string, DPoP-bound tokens, and introspection answers that describe
// something other than a live access token. Every refusal is checked for status, error code,
// audit reason, and an upstream that received nothing.

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const HOUR = 3600;

describe('token hardening through the gateway (issue 12 item 4)', () => {
  let idp: IdpServer;
  let up: RecordingUpstream;
  let gh: TestGateway;
  const bad: Record<string, IdpKey> = {};
  const now = () => Math.floor(Date.now() / 1000);
  const long = () => `${idp.issuer}/long`;
  const entra = () => `${idp.issuer}/entra`;
  const opaqueIss = () => `${idp.issuer}/opaque`;

  /** An RSA key published with a different public exponent `e` (base64url). */
  function rsaWithExponent(kid: string, e: string): IdpKey {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), e, kid, alg: 'RS256', use: 'sig' };
    return { kid, alg: 'RS256', privateKey, publicKey, jwk };
  }

  /** An EC key whose published JWK is rewritten by `edit`. */
  function ecEdited(
    kid: string,
    curve: 'P-256' | 'P-384',
    edit: (j: Record<string, unknown>) => void,
  ): IdpKey {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } as Record<
      string,
      unknown
    >;
    edit(jwk);
    return { kid, alg: 'ES256', privateKey, publicKey, jwk };
  }

  before(async () => {
    idp = await startIdp({ algs: ['RS256'] });
    bad.e1 = rsaWithExponent('e-one', 'AQ');
    bad.e2 = rsaWithExponent('e-even', 'AAEAAA'); // 65536
    bad.eHuge = rsaWithExponent(
      'e-huge',
      b64(Buffer.concat([Buffer.from([1]), Buffer.alloc(32), Buffer.from([1])])),
    );
    bad.ecPadded = ecEdited('ec-padded', 'P-256', (j) => {
      j.x = b64(Buffer.concat([Buffer.alloc(1), Buffer.from(j.x as string, 'base64url')]));
    });
    bad.ecCurve = ecEdited('ec-curve', 'P-384', (j) => (j.crv = 'P-256'));
    for (const k of Object.values(bad)) idp.keys.push(k);
    up = await startUpstream();
    const jwks = { jwks_uri: idp.jwksUri, audiences: [idp.audience] };
    gh = await startGatehouse({
      upstreams: { app: { url: up.url } },
      providers: {
        corp: { issuer: idp.issuer, ...jwks },
        long: { issuer: long(), ...jwks, max_token_lifetime: '48h', max_token_bytes: '12kb' },
        entra: { issuer: entra(), ...jwks, preset: 'entra' },
        opaque: {
          issuer: opaqueIss(),
          discovery: false,
          token_type: 'opaque',
          audiences: [idp.audience],
          introspection: {
            endpoint: idp.introspectionUrl,
            client_id: 'gatehouse',
            client_secret: 'introspection-secret',
          },
        },
      },
      routes: [
        {
          name: 'corp',
          match: { path: '/corp' },
          upstream: 'app',
          auth: 'bearer',
          providers: ['corp'],
          allow: 'authenticated',
        },
        {
          name: 'multi',
          match: { path: '/multi' },
          upstream: 'app',
          auth: 'bearer',
          providers: ['corp', 'long', 'entra'],
          allow: 'authenticated',
        },
        {
          name: 'opaque',
          match: { path: '/opaque' },
          upstream: 'app',
          auth: 'bearer',
          providers: ['opaque'],
          allow: 'authenticated',
        },
        {
          name: 'query',
          match: { path: '/q' },
          upstream: 'app',
          auth: 'bearer',
          providers: ['corp'],
          token: { query: 'access_token' },
          allow: 'authenticated',
        },
        {
          name: 'machines',
          match: { path: '/machines' },
          upstream: 'app',
          auth: 'mtls',
          allow: 'authenticated',
        },
        { name: 'public', match: { path: '/public' }, upstream: 'app', auth: 'none' },
      ],
    });
  });

  after(async () => {
    await gh?.close();
    await up?.close();
    await idp?.close();
  });

  const auth = (t: string): Array<[string, string]> => [['Authorization', `Bearer ${t}`]];

  async function expectRefused(
    path: string,
    headers: Array<[string, string]>,
    status: number,
    code: string,
    reason: string,
    label = reason,
  ): Promise<Reply> {
    const upBefore = up.received.length;
    const auditBefore = gh.audit.length;
    const r = await send(gh.url, path, { headers });
    assert.equal(r.status, status, `${label}: ${r.body}`);
    assert.equal(r.json().error, code, label);
    await new Promise((res) => setImmediate(res));
    assert.equal(up.received.length, upBefore, `${label}: nothing reached the upstream`);
    assert.equal(gh.audit.length - auditBefore, 1, `${label}: one audit event`);
    const ev = gh.audit.at(-1)!;
    assert.deepEqual([ev.status, ev.error], [status, code], label);
    assert.ok(
      ev.reasons.includes(reason),
      `${label}: reasons ${JSON.stringify(ev.reasons)} include ${reason}`,
    );
    return r;
  }

  async function expectOk(path: string, headers: Array<[string, string]>, label: string): Promise<void> {
    const n = up.received.length;
    const r = await send(gh.url, path, { headers });
    assert.equal(r.status, 200, `${label}: ${r.body}`);
    assert.equal(up.received.length, n + 1, label);
  }

  it('JWKS keys with a public exponent of 1, an even or a huge exponent, or EC coordinates that do not fit crv are unusable', async () => {
    for (const [name, key] of Object.entries(bad)) {
      const token =
        key.alg === 'ES256'
          ? idp.signRaw({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' }, idp.claims(), key)
          : await idp.token({}, { key });
      await expectRefused('/corp/x', auth(token), 401, 'GH_TOKEN_INVALID', 'token.key_unusable', name);
    }
    const warned = gh.logs
      .filter((l) => String(l.msg).startsWith('JWKS key unusable'))
      .map((l) => String(l.msg));
    assert.ok(
      warned.some((m) => m.includes('public exponent 1 ')),
      warned.join('\n'),
    );
    assert.ok(
      warned.some((m) => m.includes('public exponent 65536 ')),
      warned.join('\n'),
    );
    assert.ok(
      warned.some((m) => m.includes('coordinates are not 32 bytes')),
      warned.join('\n'),
    );
    await expectOk('/corp/x', auth(await idp.token()), 'a good key next to them still verifies');
  });

  it('implausible time claims (milliseconds, 1e308, negative) are GH_TOKEN_LIFETIME token.time_implausible', async () => {
    const t = now();
    const rsa = idp.keys[0]!;
    const cases: Array<[string, string]> = [
      [
        'exp in milliseconds',
        idp.signRaw({ alg: 'RS256', kid: rsa.kid }, idp.claims({ exp: (t + HOUR) * 1000 }), rsa),
      ],
      [
        'exp 1e308',
        idp.signRaw(
          { alg: 'RS256', kid: rsa.kid },
          JSON.stringify(idp.claims()).replace(/"exp":\d+/, '"exp":1e308'),
          rsa,
        ),
      ],
      [
        'exp 1e400 (Infinity)',
        idp.signRaw(
          { alg: 'RS256', kid: rsa.kid },
          JSON.stringify(idp.claims()).replace(/"exp":\d+/, '"exp":1e400'),
          rsa,
        ),
      ],
      ['negative iat', await idp.token({ iat: -5 })],
      ['nbf in milliseconds', await idp.token({ nbf: t * 1000 })],
    ];
    for (const [label, token] of cases)
      await expectRefused('/corp/x', auth(token), 401, 'GH_TOKEN_LIFETIME', 'token.time_implausible', label);
  });

  it('a lifetime over max_token_lifetime (default 24h, Entra 28h, or as configured) is token.lifetime_too_long', async () => {
    const t = now();
    const refused: Array<[string, Record<string, unknown>]> = [
      ['exp - iat = 25h', { iat: t, exp: t + 25 * HOUR }],
      ['no iat, 25h left', { iat: undefined, exp: t + 25 * HOUR }],
      ['no iat, exp - nbf = 25h', { iat: undefined, nbf: t - 60, exp: t - 60 + 25 * HOUR }],
      ['iat in 1970, 1h left', { iat: 1, exp: t + HOUR }],
    ];
    for (const [label, claims] of refused)
      await expectRefused(
        '/corp/x',
        auth(await idp.token(claims)),
        401,
        'GH_TOKEN_LIFETIME',
        'token.lifetime_too_long',
        label,
      );
    await expectOk(
      '/corp/x',
      auth(await idp.token({ iat: t, exp: t + 24 * HOUR })),
      'exactly 24h (Auth0 default)',
    );
    await expectOk(
      '/multi/x',
      auth(await idp.token({ iss: long(), iat: t, exp: t + 40 * HOUR })),
      '40h, max 48h',
    );
    await expectOk(
      '/multi/x',
      auth(await idp.token({ iss: entra(), iat: t, exp: t + 27 * HOUR })),
      'Entra CAE, 27h',
    );
    await expectRefused(
      '/multi/x',
      auth(await idp.token({ iss: entra(), iat: t, exp: t + 29 * HOUR })),
      401,
      'GH_TOKEN_LIFETIME',
      'token.lifetime_too_long',
      'Entra, 29h',
    );
  });

  it('max_token_bytes per provider: checked before parsing for the route, then for the issuing provider, and before introspection', async () => {
    const pad = 'x'.repeat(6500);
    const corpBig = await idp.token({ pad });
    assert.ok(corpBig.length > 8192 && corpBig.length < 12 * 1024, String(corpBig.length));
    await expectRefused(
      '/corp/x',
      auth(corpBig),
      401,
      'GH_TOKEN_MALFORMED',
      'token.too_large',
      'corp, 8 KiB',
    );
    await expectRefused(
      '/multi/x',
      auth(corpBig),
      401,
      'GH_TOKEN_MALFORMED',
      'token.too_large',
      'corp via multi',
    );
    await expectOk('/multi/x', auth(await idp.token({ iss: long(), pad })), 'long allows 12 KiB');
    const opaque = `op-${'a'.repeat(9000)}`;
    idp.setOpaque(opaque, { active: true, sub: 'alice', aud: idp.audience, exp: now() + 600 });
    const calls = idp.counts.introspect;
    await expectRefused(
      '/opaque/x',
      auth(opaque),
      401,
      'GH_TOKEN_MALFORMED',
      'token.too_large',
      'opaque 9 KiB',
    );
    assert.equal(idp.counts.introspect, calls, 'never sent to the IdP');
  });

  it('claims that become headers or log fields: control characters and blank identifiers are refused', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ sub: 'alice\r\nX-Admin: 1' }, 'token.claim_control'],
      [{ sub: 'alice\u0000' }, 'token.claim_control'],
      [{ sub: '   ' }, 'token.claim_blank'],
      [{ name: 'Alice\u2028Admin' }, 'token.claim_control'],
      [{ email: 'a@example.com\u0085' }, 'token.claim_control'],
      [{ groups: ['staff', ' '] }, 'token.claim_blank'],
      [{ roles: ['admin\n'] }, 'token.claim_control'],
      [{ scope: 'read\twrite' }, 'token.claim_control'],
      [{ azp: '\t' }, 'token.claim_control'],
      [{ jti: 'id\u001b[31m' }, 'token.claim_control'],
    ];
    for (const [claims, reason] of cases)
      await expectRefused(
        '/corp/x',
        auth(await idp.token(claims)),
        401,
        'GH_TOKEN_INVALID',
        reason,
        JSON.stringify(claims),
      );
    await expectOk(
      '/corp/x',
      auth(await idp.token({ name: '', sub: 'Zoë Ünal' })),
      'blank display name, non-ASCII subject',
    );
  });

  it('OAuth tokens in the query string are refused on authenticated routes, in every spelling', async () => {
    const good = await idp.token();
    const names = [
      'access_token',
      'ACCESS_TOKEN',
      'Access_Token',
      'access%5Ftoken',
      '%61ccess_token',
      'access.token',
      'access+token',
      'access_token[]',
      'access_token%5B0%5D',
      'id_token',
      'refresh_token',
    ];
    // The value must not be able to occur in a response by chance: the request id is a UUID, so
    // a hex-only value such as 'abc' appears in about one error body in 140.
    const leaked = 'leaked-query-token-zq';
    for (const n of names) {
      const r = await expectRefused(
        `/corp/x?a=1&${n}=${leaked}`,
        auth(good),
        400,
        'GH_TOKEN_IN_QUERY',
        'token.in_query',
        n,
      );
      assert.match(String(r.headers['www-authenticate']), /error="invalid_request"/);
      assert.ok(!r.body.includes(leaked), `${n}: the refused value is not echoed: ${r.body}`);
      assert.ok(!JSON.stringify(r.headers).includes(leaked), `${n}: nor in a response header`);
    }
    await expectRefused(
      '/corp/x?x=1;access_token=abc',
      auth(good),
      400,
      'GH_TOKEN_IN_QUERY',
      'token.in_query',
      '; separator',
    );
    await expectRefused(
      '/corp/x?access_token',
      [],
      400,
      'GH_TOKEN_IN_QUERY',
      'token.in_query',
      'no value, no header',
    );
    // Non-bearer authenticated routes: refused before any authenticator, without a Bearer challenge.
    const m = await expectRefused(
      '/machines/x?id_token=abc',
      [],
      400,
      'GH_TOKEN_IN_QUERY',
      'token.in_query',
      'mtls route',
    );
    assert.equal(m.headers['www-authenticate'], undefined);
  });

  it('names that are not OAuth token parameters pass; a route with token.query reads and removes its own parameter only', async () => {
    const good = await idp.token();
    await expectOk('/corp/x?token=reset-123&next_token=p2&csrf_token=c&tokens=1', auth(good), 'other names');
    assert.equal(up.received.at(-1)?.url, '/corp/x?token=reset-123&next_token=p2&csrf_token=c&tokens=1');
    await expectOk(`/q/x?page=2&access_token=${good}`, [], 'token.query: access_token');
    assert.equal(up.received.at(-1)?.url, '/q/x?page=2', 'the token never reaches the upstream URL');
    for (const other of ['ACCESS_TOKEN', 'access%5Ftoken', 'id_token'])
      await expectRefused(
        `/q/x?access_token=${good}&${other}=x`,
        [],
        400,
        'GH_TOKEN_IN_QUERY',
        'token.in_query',
        `token.query route, ${other}`,
      );
  });

  it('public routes are not policed (documented): Gatehouse reads no credential there', async () => {
    await expectOk('/public/x?access_token=abc', [], 'public route');
    assert.equal(up.received.at(-1)?.url, '/public/x?access_token=abc');
  });

  it('sender-constrained JWTs over plain HTTP: cnf.jkt is DPoP-bound, cnf.x5t#S256 needs its certificate, other cnf unsupported', async () => {
    await expectRefused(
      '/corp/x',
      auth(await idp.token({ cnf: { jkt: b64(randomBytes(32)) } })),
      401,
      'GH_TOKEN_DPOP_BOUND',
      'token.dpop_bound',
    );
    await expectRefused(
      '/corp/x',
      auth(await idp.token({ cnf: { 'x5t#S256': b64(randomBytes(32)) } })),
      401,
      'GH_TOKEN_CERT_BINDING',
      'token.cert_missing',
    );
    await expectRefused(
      '/corp/x',
      auth(await idp.token({ cnf: { jwk: { kty: 'OKP' } } })),
      401,
      'GH_TOKEN_INVALID',
      'token.cnf_unsupported',
    );
    await expectRefused(
      '/corp/x',
      auth(await idp.token({ cnf: 'x' })),
      401,
      'GH_TOKEN_INVALID',
      'token.claim_type',
    );
    await expectRefused(
      '/corp/x',
      auth(await idp.token({ cnf: { 'x5t#S256': 'not-a-thumbprint' } })),
      401,
      'GH_TOKEN_INVALID',
      'token.claim_type',
      'malformed thumbprint',
    );
  });

  it('introspection answers: refresh, ID and DPoP tokens, implausible or over-long times, unsafe claims are refused', async () => {
    const t = now();
    const base = { active: true, sub: 'alice', aud: idp.audience, iat: t, exp: t + 600 };
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ token_type: 'refresh_token' }, 'GH_TOKEN_TYPE', 'token.not_access_token'],
      [
        { token_type: 'urn:ietf:params:oauth:token-type:refresh_token' },
        'GH_TOKEN_TYPE',
        'token.not_access_token',
      ],
      [{ token_type: 'id_token' }, 'GH_TOKEN_TYPE', 'token.not_access_token'],
      [{ token_type: 7 }, 'GH_TOKEN_TYPE', 'token.not_access_token'],
      [{ typ: 'Refresh' }, 'GH_TOKEN_TYPE', 'token.not_access_token'],
      [{ typ: 'Offline' }, 'GH_TOKEN_TYPE', 'token.not_access_token'],
      [{ token_type: 'DPoP' }, 'GH_TOKEN_DPOP_BOUND', 'token.dpop_bound'],
      [{ cnf: { jkt: b64(randomBytes(32)) } }, 'GH_TOKEN_DPOP_BOUND', 'token.dpop_bound'],
      [{ cnf: { 'x5t#S256': b64(randomBytes(32)) } }, 'GH_TOKEN_CERT_BINDING', 'token.cert_missing'],
      [{ exp: (t + 600) * 1000 }, 'GH_TOKEN_LIFETIME', 'token.time_implausible'],
      [{ iat: t, exp: t + 30 * HOUR }, 'GH_TOKEN_LIFETIME', 'token.lifetime_too_long'],
      [{ iat: undefined, exp: t + 30 * HOUR }, 'GH_TOKEN_LIFETIME', 'token.lifetime_too_long'],
      [{ iat: t + 600 }, 'GH_TOKEN_NOT_YET_VALID', 'token.iat_future'],
      [{ nbf: t + 600 }, 'GH_TOKEN_NOT_YET_VALID', 'token.not_yet_valid'],
      [{ exp: String(t + 600) }, 'GH_TOKEN_INVALID', 'token.claim_type'],
      [{ exp: t - 600 }, 'GH_TOKEN_EXPIRED', 'token.expired'],
      [{ sub: 'alice\nbob' }, 'GH_TOKEN_INVALID', 'token.claim_control'],
    ];
    for (const [extra, code, reason] of cases) {
      const token = `op-${b64(randomBytes(18))}`;
      idp.setOpaque(token, { ...base, ...extra });
      await expectRefused('/opaque/x', auth(token), 401, code, reason, JSON.stringify(extra));
    }
    for (const tt of ['Bearer', 'bearer', 'urn:ietf:params:oauth:token-type:access_token', undefined]) {
      const token = `op-${b64(randomBytes(18))}`;
      idp.setOpaque(token, { ...base, token_type: tt, typ: tt === undefined ? 'Bearer' : undefined });
      await expectOk('/opaque/x', auth(token), `token_type ${String(tt)}`);
    }
  });

  it('gatehouse explain traces each new check with the same reason the gateway audits', async () => {
    const registry = gh.gateway.state.services.get('providers') as ProviderRegistry;
    const t = now();
    const cases: Array<[string, string, string, string]> = [
      [
        await idp.token({ iat: t, exp: t + 25 * HOUR }),
        'lifetime',
        'GH_TOKEN_LIFETIME',
        'token.lifetime_too_long',
      ],
      [
        await idp.token({ exp: (t + HOUR) * 1000 }),
        'lifetime',
        'GH_TOKEN_LIFETIME',
        'token.time_implausible',
      ],
      [
        await idp.token({ cnf: { jkt: b64(randomBytes(32)) } }),
        'cnf',
        'GH_TOKEN_DPOP_BOUND',
        'token.dpop_bound',
      ],
      [
        await idp.token({ cnf: { 'x5t#S256': b64(randomBytes(32)) } }),
        'cert_binding',
        'GH_TOKEN_CERT_BINDING',
        'token.cert_missing',
      ],
      [await idp.token({ sub: 'a\nb' }), 'principal', 'GH_TOKEN_INVALID', 'token.claim_control'],
      [await idp.token({ pad: 'x'.repeat(6500) }), 'format', 'GH_TOKEN_MALFORMED', 'token.too_large'],
      [await idp.token({}, { key: bad.e1 }), 'key', 'GH_TOKEN_INVALID', 'token.key_unusable'],
    ];
    for (const [token, check, code, reason] of cases) {
      const r = await explainToken(registry, token, { providers: ['corp'] });
      const last = r.checks.at(-1);
      assert.deepEqual(
        [last?.check, last?.pass, r.error?.code, r.error?.reasons[0]],
        [check, false, code, reason],
        JSON.stringify(r.checks),
      );
    }
    const opaque = `op-${b64(randomBytes(18))}`;
    idp.setOpaque(opaque, {
      active: true,
      sub: 'a',
      aud: idp.audience,
      exp: t + 60,
      token_type: 'refresh_token',
    });
    const r = await explainToken(registry, opaque, { providers: ['opaque'] });
    assert.deepEqual([r.checks.at(-1)?.check, r.error?.reasons[0]], ['token_type', 'token.not_access_token']);
    const ok = await explainToken(registry, await idp.token({ iat: t, exp: t + HOUR }), {
      providers: ['corp'],
    });
    assert.ok(ok.principal, JSON.stringify(ok.checks));
    assert.deepEqual(
      ok.checks.find((c) => c.check === 'lifetime'),
      { check: 'lifetime', pass: true, detail: 'exp - iat is 3600s, within 86400s' },
    );
  });
});
