import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { COOKIE, EstateBrowser, isHandoff, startEstate, type Estate } from './estate.js';

/** A handoff URL for `host` issued to browser `b` (which holds a login-host session), not yet redeemed. */
async function freshCode(b: EstateBrowser, host: string): Promise<string> {
  const stop = await b.navigate(`${host}/.gatehouse/login?rd=/x`, isHandoff);
  assert.ok(isHandoff(stop.url), `handoff URL expected, got ${stop.url} (${stop.chain.join(' -> ')})`);
  return stop.url;
}

function refused(e: Estate, page: { status: number; body: string }, code: string): void {
  assert.equal(page.status, code === 'GH_SSO_SESSION_ENDED' ? 401 : 400);
  assert.ok(page.body.includes(code), `page names ${code}: ${page.body.slice(0, 400)}`);
  const ev = e.gateways[0]!.audit.filter((a) => a.type === 'sso.handoff.failed').at(-1);
  assert.equal(ev?.error, code);
  assert.equal(ev?.decision, 'deny');
}

describe('one login for many hosts (session.sso, real OpenID provider)', () => {
  let e: Estate;
  before(async () => {
    e = await startEstate();
  });
  after(async () => {
    await e?.close();
  });

  test('sign in on intranet, then payroll opens without a second IdP round trip; each host has its own cookie', async () => {
    const b = new EstateBrowser();
    const a = await b.signIn(`${e.intranet}/reports?q=1`, 'alice');
    assert.equal(a.status, 200, a.chain.join(' -> '));
    assert.equal(a.url, `${e.intranet}/reports?q=1`, 'back on the page asked for');
    assert.equal(b.authRequests(e.idp.issuer), 1);
    const seen = e.upstream.received.at(-1)!;
    assert.equal(seen.headers['x-forwarded-user'], 'alice');
    assert.equal(seen.headers.host, `intranet.localhost:${e.port}`);
    assert.equal(seen.headers.cookie, undefined, 'no Gatehouse cookie reaches the app');
    // The IdP only ever saw the login host's redirect URI.
    const auth = new URL(b.requested.find((u) => u.startsWith(`${e.idp.issuer}/auth`))!);
    assert.equal(auth.searchParams.get('redirect_uri'), `${e.login}/.gatehouse/callback`);

    const p = await b.navigate(`${e.payroll}/salaries`);
    assert.equal(p.status, 200, p.chain.join(' -> '));
    assert.equal(p.url, `${e.payroll}/salaries`);
    assert.equal(b.authRequests(e.idp.issuer), 1, 'no second authorization request');
    assert.deepEqual(
      p.chain.map((u) => new URL(u).host + new URL(u).pathname),
      [
        `payroll.localhost:${e.port}/salaries`,
        `login.localhost:${e.port}/.gatehouse/sso/start`,
        `payroll.localhost:${e.port}/.gatehouse/sso/handoff`,
        `payroll.localhost:${e.port}/salaries`,
      ],
    );
    assert.equal(e.upstream.received.at(-1)!.headers['x-forwarded-user'], 'alice');
    const ids = [e.login, e.intranet, e.payroll].map((h) => b.cookies(h).get(COOKIE));
    assert.ok(
      ids.every((v) => v !== undefined && /^[A-Za-z0-9_-]{43}$/.test(v)),
      'a session cookie on every host',
    );
    assert.equal(new Set(ids).size, 3, 'every host has its own session id');
    for (const u of p.chain) assert.ok(!ids.some((id) => u.includes(id!)), `no session id in ${u}`);
    const nonces = [...b.cookies(e.payroll).keys()].filter((k) => k.startsWith('gh-state-sso-'));
    assert.deepEqual(nonces, [], 'the nonce cookie is cleared once used');
    const ok = e.gateways[0]!.audit.filter((a) => a.type === 'sso.handoff');
    assert.equal(ok.length, 2);
    assert.equal(ok[1]!.subject, 'alice');

    // A host cookie is only good on its own host.
    const stolen = await b.send(`${e.intranet}/x`, {
      headers: { cookie: `${COOKIE}=${ids[2]}`, accept: 'application/json' },
    });
    assert.equal(stolen.status, 401, "payroll's cookie is refused on intranet");
  });

  test('a host under another parent domain gets its session the same way', async () => {
    const b = new EstateBrowser();
    await b.signIn(`${e.intranet}/`, 'bob');
    const p = await b.navigate(`${e.partner}/projects`);
    assert.equal(p.status, 200, p.chain.join(' -> '));
    assert.equal(p.url, `${e.partner}/projects`);
    assert.equal(b.authRequests(e.idp.issuer), 1);
    assert.equal(e.upstream.received.at(-1)!.headers['x-forwarded-user'], 'bob');
    assert.ok(b.cookies(e.partner).get(COOKIE), 'b.cookies(e.partner).get(COOKIE)');
  });

  test('step-up on an app host signs in again at the login host (prompt=login, max_age), no redirect loop', async () => {
    const b = new EstateBrowser();
    await b.signIn(`${e.intranet}/`, 'alice');
    await new Promise((r) => setTimeout(r, 3300));
    const form = await b.navigate(`${e.payroll}/secure`);
    assert.ok(form.url.startsWith(e.idp.issuer), `at the IdP again: ${form.chain.join(' -> ')}`);
    const auth = new URL(b.requested.filter((u) => u.startsWith(`${e.idp.issuer}/auth?`)).at(-1)!);
    assert.equal(auth.searchParams.get('prompt'), 'login');
    assert.equal(auth.searchParams.get('max_age'), '3');
    const done = await b.signIn(`${e.payroll}/secure`, 'alice');
    assert.equal(done.status, 200, done.chain.join(' -> '));
    assert.equal(done.url, `${e.payroll}/secure`);
    assert.equal(
      (await b.navigate(`${e.intranet}/`)).status,
      200,
      'the new session serves the other hosts too',
    );
  });

  test('a replayed handoff is refused (GH_SSO_HANDOFF_REPLAYED)', async () => {
    const b = new EstateBrowser();
    await b.signIn(`${e.intranet}/`, 'bob');
    const url = await freshCode(b, e.payroll);
    assert.equal((await b.navigate(url)).status, 200);
    refused(e, await b.send(url), 'GH_SSO_HANDOFF_REPLAYED');
  });

  test('a handoff for another host is refused (GH_SSO_HANDOFF_WRONG_HOST)', async () => {
    const b = new EstateBrowser();
    await b.signIn(`${e.intranet}/`, 'bob');
    const url = new URL(await freshCode(b, e.payroll));
    refused(e, await b.send(`${e.intranet}${url.pathname}${url.search}`), 'GH_SSO_HANDOFF_WRONG_HOST');
    refused(e, await b.send(`${e.login}${url.pathname}${url.search}`), 'GH_SSO_HANDOFF_WRONG_HOST');
  });

  test('a tampered handoff is refused (GH_SSO_HANDOFF_INVALID)', async () => {
    const b = new EstateBrowser();
    await b.signIn(`${e.intranet}/`, 'bob');
    const url = new URL(await freshCode(b, e.payroll));
    const code = url.searchParams.get('code')!;
    const flipped = (code[0] === 'A' ? 'B' : 'A') + code.slice(1);
    refused(e, await b.send(`${e.payroll}/.gatehouse/sso/handoff?code=${flipped}`), 'GH_SSO_HANDOFF_INVALID');
    const [id, exp, tag] = code.split('.');
    const later = `${id}.${Number(exp) + 3600}.${tag}`;
    refused(e, await b.send(`${e.payroll}/.gatehouse/sso/handoff?code=${later}`), 'GH_SSO_HANDOFF_INVALID');
    refused(e, await b.send(`${e.payroll}/.gatehouse/sso/handoff`), 'GH_SSO_HANDOFF_INVALID');
    assert.equal((await b.navigate(url.href)).status, 200, 'the genuine code still works');
  });

  test('a handoff presented by another browser is refused (GH_SSO_HANDOFF_UNBOUND)', async () => {
    const b = new EstateBrowser();
    await b.signIn(`${e.intranet}/`, 'bob');
    const url = await freshCode(b, e.payroll);
    const thief = new EstateBrowser();
    refused(e, await thief.send(url), 'GH_SSO_HANDOFF_UNBOUND');
    assert.equal(thief.cookies(e.payroll).get(COOKIE), undefined);
    refused(e, await b.send(url), 'GH_SSO_HANDOFF_REPLAYED');
  });

  test('a handoff after logout is refused (GH_SSO_SESSION_ENDED)', async () => {
    const b = new EstateBrowser();
    await b.signIn(`${e.intranet}/`, 'carol');
    const url = await freshCode(b, e.payroll);
    const out = await b.send(`${e.intranet}/.gatehouse/logout`);
    assert.equal(out.status, 302);
    refused(e, await b.send(url), 'GH_SSO_SESSION_ENDED');
    assert.equal(b.cookies(e.payroll).get(COOKIE), undefined);
  });

  test('start requests are sealed and only for configured hosts (GH_SSO_REQUEST_INVALID)', async () => {
    const b = new EstateBrowser();
    const start = await b.navigate(`${e.payroll}/`, (u) => u.includes('/.gatehouse/sso/start'));
    const url = new URL(start.url);
    const req = url.searchParams.get('request')!;
    const bad = await b.send(`${e.login}/.gatehouse/sso/start?request=${req.slice(0, -2)}xx`);
    assert.equal(bad.status, 400);
    assert.match(bad.body, /GH_SSO_REQUEST_INVALID/);
    const elsewhere = await b.send(`${e.payroll}/.gatehouse/sso/start?request=${encodeURIComponent(req)}`);
    assert.match(elsewhere.body, /GH_SSO_REQUEST_INVALID/);
    // Open-redirect proof: rd on an app host never leaves that host.
    for (const rd of ['https://evil.example/', '//evil.example/', '/\\evil.example', `${e.intranet}/x`]) {
      const s = await b.navigate(`${e.payroll}/.gatehouse/login?rd=${encodeURIComponent(rd)}`, (u) =>
        u.startsWith(e.idp.issuer),
      );
      assert.ok(s.url.startsWith(e.idp.issuer), s.chain.join(' -> '));
    }
  });

  test('logout on payroll ends intranet and the login host at once, then RP-initiated logout returns to the signed-out page', async () => {
    const b = new EstateBrowser();
    await b.signIn(`${e.intranet}/`, 'alice');
    assert.equal((await b.navigate(`${e.payroll}/`)).status, 200);
    const out = await b.send(`${e.payroll}/.gatehouse/logout`);
    assert.equal(out.status, 302);
    const end = new URL(out.headers.get('location')!);
    assert.ok(end.href.startsWith(e.idp.issuer), end.href);
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${e.login}/.gatehouse/signed-out`);
    assert.ok(end.searchParams.get('id_token_hint'), "end.searchParams.get('id_token_hint')");
    const json = { accept: 'application/json' };
    assert.equal((await b.send(`${e.intranet}/`, { headers: json })).status, 401, 'intranet ended');
    assert.equal((await b.send(`${e.payroll}/`, { headers: json })).status, 401, 'payroll ended');
    assert.equal((await b.send(`${e.login}/`, { headers: json })).status, 401, 'login host ended');
    assert.equal(end.searchParams.get('state'), e.payroll, 'the IdP hands the app host back');
    const signedOut = await b.send(`${e.login}/.gatehouse/signed-out?state=${encodeURIComponent(e.payroll)}`);
    assert.equal(signedOut.status, 200);
    assert.match(signedOut.body, /You are signed out/);
    assert.ok(signedOut.body.includes(`href="${e.payroll}/"`), '"Sign in again" returns to payroll');
    const evil = await b.send(
      `${e.login}/.gatehouse/signed-out?state=${encodeURIComponent('https://evil.example')}`,
    );
    assert.ok(!evil.body.includes('evil.example'), 'an unlisted state is never a link');
    assert.ok(
      evil.body.includes(`href="${e.login}/.gatehouse/login"`),
      'evil.body.includes(`href="${e.login}/.gatehouse/login"`)',
    );
    const logout = e.gateways[0]!.audit.filter((a) => a.type === 'logout').at(-1);
    assert.equal(logout?.subject, 'alice');
  });

  test('back-channel logout from the IdP ends every host', async () => {
    const b = new EstateBrowser();
    await b.signIn(`${e.intranet}/`, 'bob');
    assert.equal((await b.navigate(`${e.payroll}/`)).status, 200);
    const info = await b.send(`${e.payroll}/.gatehouse/userinfo`, {
      headers: { accept: 'application/json' },
    });
    assert.equal(info.status, 200);
    const sid = (JSON.parse(info.body) as { claims: { sid: string } }).claims.sid;
    await e.idp.backchannelLogout('bob', sid);
    const json = { accept: 'application/json' };
    for (const h of [e.intranet, e.payroll, e.login])
      assert.equal((await b.send(`${h}/`, { headers: json })).status, 401, `${h} ended`);
    const again = await b.navigate(`${e.payroll}/`, (u) => u.startsWith(e.idp.issuer));
    assert.ok(again.url.startsWith(`${e.idp.issuer}/auth`), 'a new sign-in at the IdP is needed');
  });
});
