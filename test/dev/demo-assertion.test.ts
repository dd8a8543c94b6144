import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { runDev } from '../../src/cli/dev.js';
import { startDemoApp } from '../../src/dev/demo-app.js';
import { EstateBrowser } from '../sso/estate.js';

// The demo app verifies Gatehouse's signed assertion against the JWKS and shows the result beside
// the headers; `gatehouse dev` publishes its JWKS and both demo apps show a verified assertion.

const ISS = 'http://login.localhost:1';
const AUD = 'http://intranet.localhost:1';

let jwksServer: Server;
let jwksUrl: string;
let key: CryptoKey;
let other: CryptoKey;
let app: Awaited<ReturnType<typeof startDemoApp>>;
let plain: Awaited<ReturnType<typeof startDemoApp>>;

before(async () => {
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  ({ privateKey: other } = await generateKeyPair('ES256'));
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const body = JSON.stringify({ keys: [jwk] });
  jwksServer = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(body),
  );
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  app = await startDemoApp({ assertion: { jwksUrl, issuer: ISS, audience: AUD } });
  plain = await startDemoApp({});
});
after(async () => {
  await app.close();
  await plain.close();
  await new Promise<void>((r) => jwksServer.close(() => r()));
});

const sign = (k: CryptoKey, claims: Record<string, unknown> = {}) =>
  new SignJWT({ email: 'alice@contoso.example', groups: ['staff'], ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
    .setIssuer(ISS)
    .setAudience(typeof claims.aud === 'string' ? claims.aud : AUD)
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : '60s')
    .sign(k);

test('demo app: a valid assertion is shown verified with iss, aud, exp and claims, beside the headers', async () => {
  const tok = await sign(key);
  const html = await (await fetch(`${app.url}/`, { headers: { 'x-gatehouse-assertion': tok } })).text();
  assert.match(
    html,
    /<h2>Signed assertion \(X-Gatehouse-Assertion\)<\/h2><p class="ok">verified ✓ \(ES256, kid k1\)/,
  );
  assert.ok(html.includes(`<li>iss: ${ISS}</li>`), 'html.includes(`<li>iss: ${ISS}</li>`)');
  assert.ok(html.includes(`<li>aud: ${AUD}</li>`), 'html.includes(`<li>aud: ${AUD}</li>`)');
  assert.match(html, /<li>exp: \d{4}-\d\d-\d\dT/);
  assert.match(html, /&#34;email&#34;: &#34;alice@contoso\.example&#34;/);
  assert.match(html, /Request headers received by the app/);
  const who = (await (
    await fetch(`${app.url}/api/whoami`, { headers: { 'x-gatehouse-assertion': tok } })
  ).json()) as { assertion: { verified: boolean; claims: { sub: string } } };
  assert.equal(who.assertion.verified, true);
  assert.equal(who.assertion.claims.sub, 'alice');
});

test('demo app: forged, wrong-audience, expired and garbage assertions are shown NOT verified with the reason', async () => {
  const page = async (tok: string) =>
    (await fetch(`${app.url}/`, { headers: { 'x-gatehouse-assertion': tok } })).text();
  assert.match(await page(await sign(other)), /NOT verified ✗: ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  assert.match(
    await page(await sign(key, { aud: 'http://elsewhere' })),
    /NOT verified ✗: ERR_JWT_CLAIM_VALIDATION_FAILED: unexpected &#34;aud&#34;/,
  );
  assert.match(
    await page(await sign(key, { exp: Math.floor(Date.now() / 1000) - 120 })),
    /NOT verified ✗: ERR_JWT_EXPIRED/,
  );
  assert.match(await page('garbage'), /NOT verified ✗: not a JWS/);
  const none = await (await fetch(`${app.url}/`)).text();
  assert.ok(!none.includes('Signed assertion'), 'no card without an assertion');
  const unchecked = await (
    await fetch(`${plain.url}/`, { headers: { 'x-gatehouse-assertion': await sign(key) } })
  ).text();
  assert.match(unchecked, /NOT verified ✗: not checked: this app has no JWKS URL/);
});

test('gatehouse dev publishes its assertion JWKS and the demo apps show a verified assertion (intranet ES256, payroll RS256)', async () => {
  let printed = '';
  const out = new Writable({
    write(c: Buffer, _e, cb) {
      printed += c.toString();
      cb();
    },
  });
  const ac = new AbortController();
  let url = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const exit = runDev(
    ['--port', '0'],
    { stdout: out, stderr: out },
    {
      signal: ac.signal,
      onReady: (u) => {
        url = u;
        markReady();
      },
    },
  );
  void exit.then(() => markReady());
  await ready;
  try {
    assert.match(url, /^http:\/\/intranet\.localhost:\d+$/, printed);
    const port = new URL(url).port;
    const jwksUrl = `http://127.0.0.1:${port}/.well-known/gatehouse/jwks.json`;
    assert.ok(printed.includes(`Assertion JWKS:    ${jwksUrl}`), printed);
    const set = (await (await fetch(jwksUrl)).json()) as { keys: { alg: string; d?: string }[] };
    assert.deepEqual(set.keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    assert.ok(
      set.keys.every((k) => k.d === undefined),
      'set.keys.every((k) => k.d === undefined)',
    );

    const b = new EstateBrowser();
    const home = await b.signIn(`${url}/`, 'alice');
    assert.equal(home.status, 200, home.chain.join(' -> '));
    assert.match(home.body, /<p class="ok">verified ✓ \(ES256, kid [\w-]+\)<\/p>/);
    assert.ok(home.body.includes(`<li>aud: ${url}</li>`), 'audience is the intranet host');
    assert.ok(
      home.body.includes(`<li>iss: http://login.localhost:${port}</li>`),
      'home.body.includes(`<li>iss: http://login.localhost:${port}</li>`)',
    );
    assert.match(home.body, /&#34;groups&#34;: \[\s*&#34;staff&#34;,\s*&#34;admins&#34;/);
    const pay = await b.navigate(`http://payroll.localhost:${port}/`);
    assert.equal(pay.status, 200, pay.chain.join(' -> '));
    assert.match(pay.body, /<p class="ok">verified ✓ \(RS256, kid [\w-]+\)<\/p>/);
    assert.ok(
      pay.body.includes(`<li>aud: http://payroll.localhost:${port}</li>`),
      'pay.body.includes(`<li>aud: http://payroll.localhost:${port}</li>`)',
    );
  } finally {
    ac.abort();
  }
  assert.equal(await exit, 0);
});
