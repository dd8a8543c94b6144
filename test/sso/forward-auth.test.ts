import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { COOKIE, EstateBrowser, isHandoff, startEstate, type Estate } from './estate.js';

// Forward-auth mode (Traefik ForwardAuth, nginx auth_request): the proxy asks Gatehouse about
// each request of an app host and routes that host's /.gatehouse/ paths to Gatehouse. The
// handoff works the same: the check answers with the nonce cookie and the redirect to the
// login host, and the host cookie the handoff sets is accepted by later checks.
let e: Estate;
before(async () => {
  e = await startEstate({ server: { trusted_proxies: ['127.0.0.1/32'] } });
});
after(async () => {
  await e?.close();
});

function check(b: EstateBrowser, host: string, uri: string, accept = 'text/html') {
  const cookie = [...b.cookies(host)].map(([k, v]) => `${k}=${v}`).join('; ');
  return b.send(`http://127.0.0.1:${e.port}/.gatehouse/auth`, {
    headers: {
      'x-forwarded-host': new URL(host).host,
      'x-forwarded-uri': uri,
      'x-forwarded-method': 'GET',
      'x-forwarded-proto': 'http',
      accept,
      ...(cookie ? { cookie } : {}),
    },
  });
}

test('forward-auth on an app host: the check starts the handoff, and the host cookie it yields passes later checks', async () => {
  const b = new EstateBrowser();
  assert.equal((await b.signIn(`${e.intranet}/`, 'alice')).status, 200);

  const first = await check(b, e.payroll, '/pay?m=12');
  assert.equal(first.status, 302);
  const location = first.headers.get('location')!;
  assert.ok(location.startsWith(`${e.login}/.gatehouse/sso/start?request=`), location);
  // The proxy relays the answer to the browser, on the payroll host: the nonce cookie lands there.
  const nonce = first.headers.get('set-cookie') ?? '';
  assert.match(nonce, /^gh-state-sso-[A-Za-z0-9_-]+=/);
  const [pair = ''] = nonce.split(';');
  b.cookies(e.payroll).set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));

  const stop = await b.navigate(location, isHandoff);
  assert.ok(isHandoff(stop.url), stop.chain.join(' -> '));
  const landed = await b.navigate(stop.url);
  assert.equal(landed.url, `${e.payroll}/pay?m=12`);
  assert.ok(b.cookies(e.payroll).get(COOKIE), 'b.cookies(e.payroll).get(COOKIE)');
  assert.equal(b.authRequests(e.idp.issuer), 1, 'no second sign-in');

  const ok = await check(b, e.payroll, '/pay');
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('x-forwarded-user'), 'alice');

  const stranger = new EstateBrowser();
  assert.equal((await check(stranger, e.payroll, '/pay', 'application/json')).status, 401);
  await b.send(`${e.intranet}/.gatehouse/logout`);
  assert.equal(
    (await check(b, e.payroll, '/pay', 'application/json')).status,
    401,
    'single logout reaches forward-auth',
  );
});
