import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startIdp, signJws, type IdpServer } from '../helpers/idp-server.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { send, type Reply } from '../helpers/http.js';
import { validateConfig } from '../../src/config/load.js';
import { jwkThumbprint } from '../../src/identity/keys.js';
import { JWKS_PATH } from '../../src/identity/feature.js';
import {
  buildAll,
  makeApp,
  readmeWebConfig,
  runUnitTests,
  startHost,
  type Build,
  type MonoHost,
} from './mono.js';

// The ASP.NET module (integrations/aspnet) compiled by Mono's mcs and run on a System.Web host,
// behind a real Gatehouse that signs RS256 assertions and serves their JWKS itself.

const ISSUER = 'https://gatehouse.test';
const AUDIENCE = 'https://intranet.test';
const ROLE_TYP = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
const NAMEID_TYP = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';

let dir: string;
let build: Build;
let idp: IdpServer;
let gh: TestGateway;
let host: MonoHost;
let hostStartMs: number;
const keys: Record<'a' | 'b', { file: string; key: KeyObject; kid: string }> = {} as never;
let config: Record<string, unknown>;

function rsaKey(name: string): { file: string; key: KeyObject; kid: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, string>;
  return { file, key: privateKey, kid: jwkThumbprint(jwk) };
}

/** A compact JWS over `payload` with `header`, signed by `key` (or unsigned for alg none). */
function jws(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key?: KeyObject | Buffer,
): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  const alg = String(header.alg);
  return key === undefined || alg === 'none'
    ? `${input}.`
    : `${input}.${signJws(alg, input, key).toString('base64url')}`;
}

/** Assertion claims as Gatehouse signs them, valid for a minute, overridden by `extra`. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'u-direct',
    email: 'direct@example.com',
    iat: now,
    exp: now + 60,
    ...extra,
  };
}

function assertionConfig(keyFile: string, previous: string[] = []): Record<string, unknown> {
  return { issuer: ISSUER, algorithm: 'RS256', key_file: keyFile, previous_key_files: previous };
}

/** Sends to the Mono host directly, optionally from another loopback address. */
function direct(path: string, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: host.port, path, headers, localAddress, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body) as T,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

interface Whoami {
  authenticated: boolean;
  name: string | null;
  authenticationType: string | null;
  isInRole: Record<string, boolean>;
  authorize: Record<string, boolean>;
  threadPrincipalName: string | null;
  claimsPrincipalCurrentName: string | null;
  claims: { type: string; value: string }[];
  headers: Record<
    string,
    {
      headers: string | null;
      serverVariables: string | null;
      params: string | null;
      allHttpContains: boolean;
    }
  >;
}

const bearer = async (c: Record<string, unknown>) => ({ authorization: `Bearer ${await idp.token(c)}` });
const alice = {
  sub: 'u-alice',
  email: 'alice@example.com',
  name: 'Alice',
  roles: ['admins'],
  groups: ['g-staff'],
};
const bob = { sub: 'u-bob', email: 'bob@example.com', name: 'Bob', roles: ['readers'], groups: ['g-guests'] };

// Generous: six compilations and Mono's start on a loaded 2-core machine.
before(
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-aspnet-'));
    build = buildAll(join(dir, 'build'));
    keys.a = rsaKey('a');
    keys.b = rsaKey('b');
    idp = await startIdp();
    const hostPort = await freePort();
    const iis = `http://127.0.0.1:${hostPort}`;
    const route = (name: string, identity: Record<string, unknown>) => ({
      name,
      match: { path: `/${name}` },
      upstream: 'iis',
      auth: 'bearer',
      allow: 'authenticated',
      identity,
    });
    const assertion = { audience: AUDIENCE, roles: 'all', groups: 'all' };
    config = {
      providers: { corp: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri } },
      identity: { assertion: assertionConfig(keys.a.file) },
      upstreams: { iis: { url: iis } },
      routes: [
        route('app', { assertion }),
        route('easy', { easy_auth: { provider_name: 'aad' } }),
        route('mixed', { easy_auth: { provider_name: 'aad' }, assertion }),
      ],
    };
    gh = await startGatehouse(config);
    const common = { jwks_url: `${gh.url}${JWKS_PATH}`, issuer: ISSUER, audience: AUDIENCE };
    const apps = {
      '/app': makeApp(build, join(dir, 'app'), { ...common, mode: 'assertion' }),
      '/easy': makeApp(build, join(dir, 'easy'), { mode: 'easyauth', trusted_addresses: '127.0.0.1' }),
      // Gatehouse (127.0.0.1) is not listed: only a valid assertion makes the principal trusted.
      '/readme': makeApp(build, join(dir, 'readme'), {}, readmeWebConfig(common.jwks_url)),
      '/anon': makeApp(build, join(dir, 'anon'), { ...common, mode: 'assertion', on_missing: 'anonymous' }),
      '/mixed': makeApp(build, join(dir, 'mixed'), {
        ...common,
        mode: 'easyauth',
        trusted_addresses: '10.255.0.0/16',
        keep_easyauth_headers: 'true',
      }),
    };
    const t = Date.now();
    host = await startHost(build, apps, hostPort);
    hostStartMs = Date.now() - t;
  },
  { timeout: 300_000 },
);

after(async () => {
  await host?.close();
  await gh?.close();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('mcs compiles the module (C# 5) against the .NET Framework 4.7.2 API, 4.6.2 without ES256, and the csproj builds', (t) => {
  for (const step of [
    'module 4.7.2',
    'module 4.6.2',
    'test host',
    'test app',
    'unit tests',
    'csproj (xbuild)',
  ])
    assert.ok(build.ms[step] !== undefined, step);
  assert.ok(existsSync(join(build.dir, 'xbuild', 'Gatehouse.AspNet.dll')), 'Gatehouse.AspNet.csproj builds');
  t.diagnostic(`build ms: ${JSON.stringify(build.ms)}; host start to listening ${hostStartMs} ms`);
});

test('C# unit tests (settings, trusted addresses, JWKS parsing, claim mapping) pass under Mono', async () => {
  const r = await runUnitTests(build);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^passed \d+ checks/m);
});

test('through Gatehouse: the signed-in user is HttpContext.User with name, roles, groups and claims', async (t) => {
  const r = await send(gh.url, '/app/whoami?role=g-staff&role=readers', { headers: await bearer(alice) });
  assert.equal(r.status, 200, r.body);
  const w = r.json<Whoami>();
  assert.equal(w.authenticated, true);
  assert.equal(w.name, 'alice@example.com');
  assert.equal(w.authenticationType, 'Gatehouse');
  assert.deepEqual(w.isInRole, { admins: true, 'g-staff': true, readers: false });
  assert.deepEqual(w.authorize, { admins: true, 'g-staff': true, readers: false }, 'MVC [Authorize(Roles)]');
  assert.equal(w.threadPrincipalName, 'alice@example.com');
  assert.equal(w.claimsPrincipalCurrentName, 'alice@example.com');
  const has = (type: string, value: string) => w.claims.some((c) => c.type === type && c.value === value);
  assert.ok(has(NAMEID_TYP, 'u-alice'), 'sub → nameidentifier');
  assert.ok(has(ROLE_TYP, 'admins'), 'roles → role claim type');
  assert.ok(has('groups', 'g-staff'), "has('groups', 'g-staff')");
  assert.ok(has('iss', ISSUER), "has('iss', ISSUER)");
  // The app cannot read the assertion it was authenticated by.
  const seen = w.headers['X-Gatehouse-Assertion']!;
  assert.deepEqual([seen.headers, seen.serverVariables, seen.params], [null, null, null]);
  t.diagnostic(`ALL_HTTP still lists the assertion: ${seen.allHttpContains}`);
  const ro = /Gatehouse: (\w+) is read-only here/.exec(host.stderr());
  t.diagnostic(
    ro ? `${ro[1]} read-only: removed through NameObjectCollectionBase` : 'Headers.Remove worked as is',
  );

  const times: number[] = [];
  const h = await bearer(alice);
  for (let i = 0; i < 40; i++) {
    const s = performance.now();
    assert.equal((await send(gh.url, '/app/whoami', { headers: h })).status, 200);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(
    `through Gatehouse + module: median ${times[20]!.toFixed(1)} ms, p90 ${times[36]!.toFixed(1)} ms`,
  );
});

test('IsInRole is false for a user without the role, and <authorization roles> refuses them', async () => {
  const w = (await send(gh.url, '/app/whoami', { headers: await bearer(bob) })).json<Whoami>();
  assert.equal(w.name, 'bob@example.com');
  assert.deepEqual(w.isInRole, { admins: false });
  assert.equal((await send(gh.url, '/app/admin/whoami', { headers: await bearer(bob) })).status, 401);
  assert.equal((await send(gh.url, '/app/admin/whoami', { headers: await bearer(alice) })).status, 200);
});

test('sent to the app directly: missing, forged, unsigned, HMAC, expired, wrong aud/iss assertions get 401', async (t) => {
  const H = 'X-Gatehouse-Assertion';
  const rs = { alg: 'RS256', kid: keys.a.kid, typ: 'JWT' };
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const pubPem = createPublicKey(keys.a.key).export({ format: 'pem', type: 'spki' });
  const cases: [string, Record<string, string>, RegExp][] = [
    ['missing', {}, /no X-Gatehouse-Assertion header/],
    ['garbage', { [H]: 'not-a-jwt' }, /malformed/],
    ['forged (other key, real kid)', { [H]: jws(rs, claims(), other) }, /bad signature/],
    ['unsigned (alg none)', { [H]: jws({ ...rs, alg: 'none' }, claims()) }, /algorithm none refused/],
    [
      'HS256 keyed with the public key',
      { [H]: jws({ ...rs, alg: 'HS256' }, claims(), Buffer.from(pubPem)) },
      /algorithm HS256 refused/,
    ],
    [
      'ES256, not in gatehouse:algorithms',
      {
        [H]: jws(
          { ...rs, alg: 'ES256' },
          claims(),
          generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
        ),
      },
      /algorithm ES256 not allowed/,
    ],
    ['unknown kid', { [H]: jws({ ...rs, kid: 'nope' }, claims(), keys.a.key) }, /unknown kid/],
    ['expired', { [H]: jws(rs, claims({ exp: Math.floor(Date.now() / 1000) - 30 }), keys.a.key) }, /expired/],
    [
      'not yet valid',
      { [H]: jws(rs, claims({ nbf: Math.floor(Date.now() / 1000) + 60 }), keys.a.key) },
      /not yet valid/,
    ],
    ['wrong audience', { [H]: jws(rs, claims({ aud: 'https://other.test' }), keys.a.key) }, /wrong audience/],
    ['wrong issuer', { [H]: jws(rs, claims({ iss: 'https://evil.test' }), keys.a.key) }, /wrong issuer/],
  ];
  for (const [what, headers, reason] of cases) {
    const r = await direct('/app/whoami', headers);
    assert.equal(r.status, 401, `${what}: ${r.body}`);
    assert.match(r.body, reason, what);
  }
  // Control: the same request signed by Gatehouse's key with valid claims passes.
  const ok = await direct('/app/whoami', { [H]: jws(rs, claims({ roles: ['admins'] }), keys.a.key) });
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.json<Whoami>().name, 'direct@example.com');
  const times: number[] = [];
  for (let i = 0; i < 40; i++) {
    const token = jws(rs, claims({ jti: String(i) }), keys.a.key);
    const s = performance.now();
    assert.equal((await direct('/app/whoami', { [H]: token })).status, 200);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(
    `module only (host direct, RS256 verify): median ${times[20]!.toFixed(1)} ms, p90 ${times[36]!.toFixed(1)} ms`,
  );
  // stderr is a pipe: a Trace line can arrive after the response.
  const traced = (re: RegExp) => waitFor(() => re.test(host.stderr()), 20_000, `Trace line ${re}`);
  await traced(/Gatehouse: request GET \/app\/whoami .*: assertion expired \(401\)/);
  const crlf = await direct('/app/whoami%0D%0Aforged-line', {});
  assert.equal(crlf.status, 401);
  await traced(/request GET \/app\/whoami\?\?forged-line from/);
  assert.doesNotMatch(host.stderr(), /^forged-line/m, 'no forged Trace line');
});

test('key rotation: a new Gatehouse key is fetched from the JWKS on its first unknown kid', async () => {
  await new Promise((r) => setTimeout(r, 1100)); // the app's gatehouse:jwks_min_refresh is 1 s
  const next = { ...config, identity: { assertion: assertionConfig(keys.b.file, [keys.a.file]) } };
  await gh.gateway.reload(validateConfig(next));
  const r = await send(gh.url, '/app/whoami', { headers: await bearer(alice) });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json<Whoami>().name, 'alice@example.com');
  const old = await direct('/app/whoami', {
    'X-Gatehouse-Assertion': jws({ alg: 'RS256', kid: keys.a.kid }, claims(), keys.a.key),
  });
  assert.equal(old.status, 200, 'the previous key stays valid while Gatehouse publishes it');
});

test('Easy Auth: X-MS-CLIENT-PRINCIPAL from Gatehouse is the user; from an untrusted address it is 401', async () => {
  const r = await send(gh.url, '/easy/whoami?role=g-staff&header=X-MS-CLIENT-PRINCIPAL', {
    headers: await bearer(alice),
  });
  assert.equal(r.status, 200, r.body);
  const w = r.json<Whoami>();
  assert.equal(w.name, 'alice@example.com');
  assert.equal(w.authenticationType, 'aad');
  assert.deepEqual(w.isInRole, { admins: true, 'g-staff': true });
  const seen = w.headers['X-MS-CLIENT-PRINCIPAL']!;
  assert.deepEqual(
    [seen.headers, seen.serverVariables, seen.params],
    [null, null, null],
    'removed after use',
  );

  const forged = Buffer.from(
    JSON.stringify({
      auth_typ: 'aad',
      claims: [
        { typ: NAMEID_TYP, val: 'u-mallory' },
        { typ: 'name', val: 'mallory' },
        { typ: ROLE_TYP, val: 'admins' },
      ],
      name_typ: 'name',
      role_typ: ROLE_TYP,
    }),
  ).toString('base64');
  const untrusted = await direct('/easy/whoami', { 'X-MS-CLIENT-PRINCIPAL': forged }, '127.0.0.2');
  assert.equal(untrusted.status, 401);
  assert.match(untrusted.body, /untrusted address 127\.0\.0\.2/);
});

test('Easy Auth with an assertion: trusted only with a valid assertion for the same subject', async () => {
  const r = await send(gh.url, '/mixed/whoami?header=X-MS-CLIENT-PRINCIPAL-NAME,X-Gatehouse-Assertion', {
    headers: await bearer(alice),
  });
  assert.equal(r.status, 200, r.body);
  const w = r.json<Whoami>();
  assert.equal(w.name, 'alice@example.com');
  assert.equal(
    w.headers['X-MS-CLIENT-PRINCIPAL-NAME']?.headers,
    'alice@example.com',
    'keep_easyauth_headers: true',
  );
  assert.equal(w.headers['X-Gatehouse-Assertion']?.headers, null, 'the assertion is always removed');
  const forged = Buffer.from(
    JSON.stringify({
      auth_typ: 'aad',
      claims: [
        { typ: NAMEID_TYP, val: 'u-mallory' },
        { typ: ROLE_TYP, val: 'admins' },
      ],
      name_typ: NAMEID_TYP,
      role_typ: ROLE_TYP,
    }),
  ).toString('base64');
  const alone = await direct('/mixed/whoami', { 'X-MS-CLIENT-PRINCIPAL': forged });
  assert.equal(alone.status, 401);
  assert.match(alone.body, /untrusted address/);
  const mismatch = await direct('/mixed/whoami', {
    'X-MS-CLIENT-PRINCIPAL': forged,
    'X-Gatehouse-Assertion': jws({ alg: 'RS256', kid: keys.b.kid }, claims(), keys.b.key),
  });
  assert.equal(mismatch.status, 401);
  assert.match(mismatch.body, /does not match the assertion's subject/);
});

test('on_missing anonymous: no or invalid assertion continues anonymous, and the forged header is gone', async () => {
  const none = await direct('/anon/whoami', {});
  assert.equal(none.status, 200);
  assert.equal(none.json<Whoami>().authenticated, false);
  const forged = jws(
    { alg: 'RS256', kid: keys.a.kid },
    claims({ roles: ['admins'] }),
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  );
  const r = await direct('/anon/whoami', { 'X-Gatehouse-Assertion': forged });
  assert.equal(r.status, 200);
  const w = r.json<Whoami>();
  assert.deepEqual([w.authenticated, w.isInRole.admins], [false, false]);
  const seen = w.headers['X-Gatehouse-Assertion']!;
  assert.deepEqual(
    [seen.headers, seen.serverVariables, seen.params],
    [null, null, null],
    'unverified copy removed',
  );
  assert.equal((await direct('/anon/admin/whoami', { 'X-Gatehouse-Assertion': forged })).status, 401);
});

test('ES256 on Mono: Gatehouse signs ES256, the module refuses it as unsupported by this runtime', async () => {
  // Mono 6.8 has no ECDsa.Create(ECParameters) (NotImplementedException); .NET Framework 4.7+ would
  // answer 200. The README app allows RS256,ES256 (the default) and has not fetched the JWKS yet.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = join(dir, 'c.pem');
  writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const kid = jwkThumbprint(createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, string>);
  const next = {
    ...config,
    identity: { assertion: { ...assertionConfig(file, [keys.a.file, keys.b.file]), algorithm: 'ES256' } },
  };
  await gh.gateway.reload(validateConfig(next));
  const site = 'https://intranet.example.com';
  const r = await direct('/readme/whoami', {
    'X-Gatehouse-Assertion': jws({ alg: 'ES256', kid }, claims({ iss: site, aud: site }), privateKey),
  });
  assert.equal(r.status, 401);
  assert.match(
    r.body,
    /ES256 is not supported by this runtime \(NotImplementedException\); sign assertions with RS256/,
  );
});

test("the README's web.config, as written, loads the module and enforces the assertion", async () => {
  const rs = { alg: 'RS256', kid: keys.b.kid };
  const site = 'https://intranet.example.com'; // the README's gatehouse:issuer and gatehouse:audience
  const ok = await direct('/readme/whoami', {
    'X-Gatehouse-Assertion': jws(rs, claims({ iss: site, aud: site, roles: ['admins'] }), keys.b.key),
  });
  assert.equal(ok.status, 200, ok.body);
  const w = ok.json<Whoami>();
  assert.deepEqual([w.name, w.isInRole.admins], ['direct@example.com', true]);
  const none = await direct('/readme/whoami', {});
  assert.equal(none.status, 401);
  const wrongAud = await direct('/readme/whoami', {
    'X-Gatehouse-Assertion': jws(rs, claims({ iss: site }), keys.b.key),
  });
  assert.equal(wrongAud.status, 401);
  assert.match(wrongAud.body, /wrong audience/);
});
