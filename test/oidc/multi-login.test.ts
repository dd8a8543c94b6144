import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { PARTNER_USERS, startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { freePort } from '../helpers/ports.js';
import { send } from '../helpers/http.js';
import { TestBrowser } from './browser-client.js';
import { CLIENT_SECRET, SECRET, ssoConfig, startSso, type SsoFixture } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const PARTNER_CLIENT = 'gatehouse-partners';
const COOKIE = 'gatehouse_session';
const JSON_ACCEPT = { accept: 'application/json' };
const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };

/** Two logins: staff (the fixture's dev IdP) and partners (a second dev IdP with other users). */
function twoLogins(config: Record<string, unknown>, partnerIssuer: string): void {
  const providers = config.providers as Record<string, unknown>;
  providers.partners = {
    issuer: partnerIssuer,
    audiences: [PARTNER_CLIENT],
    login_client_ids: [PARTNER_CLIENT],
  };
  const session = config.session as Record<string, Record<string, unknown>>;
  session.login = { ...session.login, name: 'staff', label: 'Staff <Contoso> & co' };
  session.logins = {
    partners: {
      provider: 'partners',
      label: 'Partners (Fabrikam)',
      client_id: PARTNER_CLIENT,
      client_secret: CLIENT_SECRET,
      scopes: ['openid', 'profile', 'email', 'groups'],
      insecure_allow_http: true,
    },
  };
  const r = (name: string, path: string, extra: Record<string, unknown>) => ({
    name,
    match: { path },
    upstream: 'app',
    auth: 'session',
    identity: { headers: 'oauth2-proxy' },
    ...extra,
  });
  config.routes = [
    r('staff', '/staff', { login: 'staff', allow: 'authenticated' }),
    r('partners', '/partners', { login: ['partners'], allow: 'authenticated' }),
    r('partner-admin', '/partner-admin', {
      rules: [
        { name: 'partner-admins', effect: 'allow', when: { provider: 'partners', group: 'partner-admins' } },
      ],
    }),
    r('any', '/', { allow: 'authenticated' }),
  ];
}

describe('several identity providers for login (session.logins), with the chooser', () => {
  let partners: DevProvider;
  let f: SsoFixture;
  let browser: Browser;
  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is required by this test (apt-get install -y chromium)`);
    const port = await freePort();
    partners = await startDevProvider({
      users: PARTNER_USERS.map((u) => ({ ...u })),
      clients: [
        {
          client_id: PARTNER_CLIENT,
          client_secret: CLIENT_SECRET,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [`http://127.0.0.1:${port}/.gatehouse/callback`],
          post_logout_redirect_uris: [`http://127.0.0.1:${port}/`],
        },
      ],
      logger: quiet,
    });
    f = await startSso({ port, edit: (c) => twoLogins(c, partners.issuer) });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking'],
    });
  });
  after(async () => {
    await browser?.close();
    await f?.close();
    await partners?.close();
  });

  test('Chromium: a route open to both logins shows the chooser (labels escaped); picking partners signs in there', async () => {
    const page = await browser.newPage();
    await page.goto(`${f.url}/docs/start?x=1`);
    assert.equal(await page.textContent('h1'), 'Choose how to sign in');
    const links = await page.$$eval('ul.choices a', (as) =>
      as.map((a) => [a.textContent, a.getAttribute('href')]),
    );
    assert.deepEqual(links, [
      ['Staff <Contoso> & co', '/.gatehouse/login?login=staff&rd=%2Fdocs%2Fstart%3Fx%3D1'],
      ['Partners (Fabrikam)', '/.gatehouse/login?login=partners&rd=%2Fdocs%2Fstart%3Fx%3D1'],
    ]);
    assert.equal(await page.$('ul.choices a contoso'), null, 'the label is text, not markup');
    await page.click('text=Partners (Fabrikam)');
    assert.ok(page.url().startsWith(partners.issuer), `at the partners IdP: ${page.url()}`);
    await page.fill('input[name=login]', 'pat');
    await page.fill('input[name=password]', 'pat-dev-password');
    await Promise.all([page.waitForURL(`${f.url}/docs/start?x=1`), page.click('button[type=submit]')]);
    const seen = f.upstream.received.at(-1)!;
    assert.equal(seen.headers['x-forwarded-user'], 'pat');
    assert.equal(seen.headers['x-forwarded-email'], 'pat@fabrikam.example');

    // A staff-only app does not take the partners session: the browser goes to the staff IdP.
    await page.goto(`${f.url}/staff/home`);
    assert.ok(page.url().startsWith(f.idp.issuer), `at the staff IdP: ${page.url()}`);
    await page.close();
  });

  test('the session remembers its login: routes check it, rules test its provider, logout goes to its IdP', async () => {
    const pat = new TestBrowser();
    const form = await pat.navigate(`${f.url}/.gatehouse/login?login=partners&rd=/partners/x`);
    assert.equal(new URL(form.chain[1] as string).origin, partners.issuer);
    assert.equal((await pat.submitLogin(form, 'pat', 'pat-dev-password')).url, `${f.url}/partners/x`);
    const me = JSON.parse((await pat.send(`${f.url}/.gatehouse/userinfo`, { headers: JSON_ACCEPT })).body);
    assert.equal(me.provider, 'partners');
    assert.equal(me.subject, 'pat');
    const id = pat.cookies(f.url).get(COOKIE)!;
    const get = (p: string, cookie = id) =>
      send(f.url, p, { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${cookie}` } });
    const staffOnly = await get('/staff/x');
    assert.equal(staffOnly.status, 401);
    assert.equal(staffOnly.json().error, 'GH_SESSION_LOGIN_NOT_ACCEPTED');
    assert.ok(
      f.gw.audit.some((e) => e.type === 'request' && e.reasons.includes('session.login_not_accepted')),
      "f.gw.audit.some((e) => e.type === 'request' && e.reasons.includes('session.login_not_accepted'))",
    );
    assert.equal((await get('/partner-admin')).status, 403, 'pat is not in partner-admins');

    const quinn = new TestBrowser();
    await quinn.login(
      `${f.url}/.gatehouse/login?login=partners&rd=/partner-admin`,
      'quinn',
      'quinn-dev-password',
    );
    assert.equal((await get('/partner-admin', quinn.cookies(f.url).get(COOKIE)!)).status, 200);

    const alice = new TestBrowser();
    const staffForm = await alice.navigate(`${f.url}/staff/x`);
    assert.equal(new URL(staffForm.chain[1] as string).origin, f.idp.issuer, 'one login applies: no chooser');
    await alice.submitLogin(staffForm, 'alice', 'alice-dev-password');
    const aliceId = alice.cookies(f.url).get(COOKIE)!;
    assert.equal((await get('/staff/x', aliceId)).status, 200);
    assert.equal(
      (await get('/partners/x', aliceId)).status,
      401,
      'a staff session is not a partners session',
    );
    assert.equal(
      (await get('/partner-admin', aliceId)).status,
      403,
      'provider: partners does not hold for staff',
    );

    const out = await pat.send(`${f.url}/.gatehouse/logout`);
    assert.ok(
      String(out.headers.get('location')).startsWith(partners.issuer),
      'RP-initiated logout at the partners IdP',
    );
    assert.equal((await get('/partners/x')).status, 401);
  });
});

describe('several logins: configuration errors name the key path', () => {
  const problems = (edit: (c: Record<string, unknown>) => void): string[] => {
    const doc = ssoConfig(8080, 'https://login.example.com', 'http://127.0.0.1:9', {});
    (doc.session as Record<string, unknown>).secrets = [SECRET];
    twoLogins(doc, 'https://partners.example.com');
    edit(doc);
    try {
      void compileState(validateConfig(doc), {
        logger: pino({ level: 'silent' }),
        baseDir: '.',
        dryRun: true,
      }).close();
      return [];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
    }
  };
  const routes = (c: Record<string, unknown>) => c.routes as Record<string, unknown>[];
  test('valid as written', () =>
    assert.deepEqual(
      problems(() => undefined),
      [],
    ));
  test('errors', () => {
    const cases: Array<[(c: Record<string, unknown>) => void, RegExp]> = [
      [
        (c) => (routes(c)[0]!.login = ['staff', 'vendors']),
        /^routes\[0\]\.login\[1\]: unknown login "vendors"; expected one of staff, partners/,
      ],
      [(c) => (routes(c)[0]!.auth = 'bearer'), /^routes\[0\]\.login: applies to browser sessions only/],
      [
        (c) =>
          ((c.session as { logins: Record<string, unknown> }).logins.staff = {
            provider: 'partners',
            client_id: 'x',
            client_secret: 'y',
          }),
        /^session\.logins\.staff: "staff" is already the name of session\.login/,
      ],
      [
        (c) =>
          ((c.session as { logins: { partners: Record<string, unknown> } }).logins.partners.provider =
            'nope'),
        /^session\.logins\.partners\.provider: unknown provider "nope"/,
      ],
      [
        (c) => (routes(c)[3]!.session = { idle_timeout: '2h' }),
        /^routes\[3\]\.session\.idle_timeout: must not exceed session\.idle_timeout/,
      ],
    ];
    for (const [edit, re] of cases) {
      const p = problems(edit);
      assert.ok(
        p.some((x) => re.test(x)),
        `${re}: got ${JSON.stringify(p)}`,
      );
    }
  });
});
