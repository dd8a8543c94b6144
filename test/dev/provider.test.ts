import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import pino from 'pino';
import { DEMO_USERS, startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import { Browser, parseForm } from './browser.js';

const SECRET = 'demo-client-secret-0123456789abcdef';
const RP = 'http://127.0.0.1:9'; // never contacted: the browser stops at the redirect
const REDIRECT = `${RP}/.gatehouse/callback`;
const BYE = `${RP}/bye`;

let op: DevProvider;
let receiver: Server;
let receiverUrl: string;
const logoutTokens: string[] = [];
const logs: Record<string, unknown>[] = [];

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const t = new URLSearchParams(body).get('logout_token');
      if (req.method === 'POST' && t) logoutTokens.push(t);
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/.gatehouse/backchannel-logout`;
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  op = await startDevProvider({
    clients: [
      {
        client_id: 'gatehouse',
        client_secret: SECRET,
        redirect_uris: [REDIRECT],
        post_logout_redirect_uris: [BYE],
        backchannel_logout_uri: receiverUrl,
      },
      { client_id: 'other-app', client_secret: SECRET, redirect_uris: [`${RP}/other`] },
    ],
    accessTokenTtl: 120,
    logger,
  });
});

after(async () => {
  await op.close();
  await new Promise<void>((r) => receiver.close(() => r()));
});

async function rp(clientId = 'gatehouse'): Promise<client.Configuration> {
  return client.discovery(new URL(op.issuer), clientId, SECRET, undefined, {
    execute: [client.allowInsecureRequests],
  });
}

/** A full browser login through the provider's real pages; returns the token response. */
async function login(user: string, password: string, config?: client.Configuration) {
  const cfg = config ?? (await rp());
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: REDIRECT,
    scope: 'openid profile email groups offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const browser = new Browser();
  const page = await browser.follow(url.href, REDIRECT);
  assert.equal(page.status, 200, 'the login form is shown');
  const form = parseForm(page.body, page.url);
  const done = await browser.follow(form.action, REDIRECT, {
    form: { ...form.fields, login: user, password },
  });
  assert.ok(
    done.location?.startsWith(`${REDIRECT}?`),
    `redirected back to the client, got ${done.status} ${done.location ?? done.body.slice(0, 200)}`,
  );
  const tokens = await client.authorizationCodeGrant(cfg, new URL(done.location as string), {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
  });
  return { tokens, browser, config: cfg };
}

test('dev provider: listens on loopback, says it is for development only, and publishes correct discovery', async () => {
  assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(op.issuer, `http://127.0.0.1:${op.port}`);
  assert.ok(
    logs.some((l) => /DEVELOPMENT AND TESTS ONLY/.test(String(l.msg)) && l.level === 40),
    'logs.some((l) => /DEVELOPMENT AND TESTS ONLY/.test(String(l.msg)) && l.level === 40)',
  );
  const meta = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as Record<
    string,
    unknown
  >;
  assert.equal(meta.issuer, op.issuer);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  for (const s of ['openid', 'profile', 'email', 'groups', 'offline_access'])
    assert.ok((meta.scopes_supported as string[]).includes(s), s);
  for (const c of ['sub', 'name', 'email', 'email_verified', 'groups', 'roles'])
    assert.ok((meta.claims_supported as string[]).includes(c), c);
  assert.equal(meta.backchannel_logout_supported, true);
  assert.equal(meta.backchannel_logout_session_supported, true);
  assert.equal(typeof meta.end_session_endpoint, 'string');
  assert.equal(typeof meta.revocation_endpoint, 'string');
  assert.ok(
    (meta.id_token_signing_alg_values_supported as string[]).includes('RS256'),
    "(meta.id_token_signing_alg_values_supported as string[]).includes('RS256')",
  );
  const jwks = (await (await fetch(meta.jwks_uri as string)).json()) as {
    keys: Array<Record<string, unknown>>;
  };
  assert.deepEqual(jwks.keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
  assert.ok(
    jwks.keys.every((k) => k.d === undefined),
    'no private key material published',
  );
});

test('dev provider: full code + PKCE login through the HTML form yields an ID token with the user claims and groups', async () => {
  const { tokens, config } = await login('alice', 'alice-dev-password');
  const claims = tokens.claims();
  assert.ok(claims, 'claims');
  assert.equal(claims.iss, op.issuer);
  assert.equal(claims.aud, 'gatehouse');
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.name, 'Alice Anders');
  assert.equal(claims.email, 'alice@contoso.example');
  assert.equal(claims.email_verified, true);
  assert.deepEqual(claims.groups, ['staff', 'admins']);
  assert.deepEqual(claims.roles, ['admin']);
  assert.equal(typeof claims.sid, 'string', 'sid present for back-channel logout');
  assert.equal(decodeProtectedHeader(tokens.id_token as string).alg, 'RS256');
  assert.equal(typeof tokens.refresh_token, 'string');
  const info = await client.fetchUserInfo(config, tokens.access_token, 'alice');
  assert.deepEqual(info.groups, ['staff', 'admins']);
  assert.equal(info.email, 'alice@contoso.example');
});

test('dev provider: each demo user gets their own groups', async () => {
  const config = await rp();
  for (const u of DEMO_USERS.filter((x) => x.id !== 'alice')) {
    const { tokens } = await login(u.id, u.password, config);
    assert.equal(tokens.claims()?.sub, u.id);
    assert.deepEqual(tokens.claims()?.groups, u.groups);
  }
});

test('dev provider: the login page is a plain form that says it is a development provider', async () => {
  const cfg = await rp();
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  });
  const browser = new Browser();
  const page = await browser.follow(url.href, REDIRECT);
  assert.match(page.body, /<input[^>]*name="login"/);
  assert.match(
    page.body,
    /<input[^>]*name="password"[^>]*type="password"|<input[^>]*type="password"[^>]*name="password"/,
  );
  assert.match(page.body, /<button[^>]*type="submit"[^>]*>Sign in<\/button>/);
  assert.match(page.body, /Development identity provider/);
  assert.match(page.body, /never use it in production/i);
  const form = parseForm(page.body, page.url);
  const elsewhere = await browser.request(`${op.issuer}/interaction/someone-elses-uid`);
  assert.equal(elsewhere.status, 400, "an interaction id that is not this browser's is refused");
  // A wrong password re-renders the form with an error (and escapes what was typed).
  const wrong = await browser.request(form.action, {
    form: { login: '<script>alert(1)</script>', password: 'nope' },
  });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.location, undefined);
  assert.match(wrong.body, /Unknown username or wrong password/);
  assert.ok(
    !wrong.body.includes('<script>alert(1)</script>'),
    "!wrong.body.includes('<script>alert(1)</script>')",
  );
  assert.ok(wrong.body.includes('&#60;script&#62;'), "wrong.body.includes('&#60;script&#62;')");
  const bad = await browser.request(form.action, { form: { login: 'alice', password: 'bob-dev-password' } });
  assert.equal(bad.status, 401, "another user's password does not work");
  // The same attempt then succeeds with the right password.
  const ok = await browser.follow(form.action, REDIRECT, {
    form: { login: 'bob', password: 'bob-dev-password' },
  });
  assert.ok(ok.location?.startsWith(`${REDIRECT}?code=`), 'ok.location?.startsWith(`${REDIRECT}?code=`)');
});

test('dev provider: PKCE is required and unknown interactions are refused', async () => {
  const cfg = await rp();
  const url = client.buildAuthorizationUrl(cfg, { redirect_uri: REDIRECT, scope: 'openid', state: 's1' });
  const res = await new Browser().follow(url.href, REDIRECT);
  const back = new URL(res.location as string);
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.match(back.searchParams.get('error_description') ?? '', /requires PKCE/);
  const forged = await new Browser().request(`${op.issuer}/interaction/made-up-uid`);
  assert.equal(forged.status, 400);
  assert.match(forged.body, /expired or is unknown/);
});

test('dev provider: refresh tokens rotate and a used refresh token is refused', async () => {
  const { tokens, config } = await login('bob', 'bob-dev-password');
  const first = tokens.refresh_token as string;
  const refreshed = await client.refreshTokenGrant(config, first);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal(typeof refreshed.refresh_token, 'string');
  assert.notEqual(refreshed.refresh_token, first, 'rotated');
  assert.equal(refreshed.claims()?.sub, 'bob');
  assert.deepEqual(refreshed.claims()?.groups, ['staff']);
  await assert.rejects(
    client.refreshTokenGrant(config, first),
    (e: unknown) => (e as { error?: string }).error === 'invalid_grant',
  );
});

test('dev provider: RP-initiated logout sends a back-channel logout_token to the client', async () => {
  const { tokens, browser, config } = await login('carol', 'carol-dev-password');
  const sid = tokens.claims()?.sid;
  logoutTokens.length = 0;
  const end = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token as string,
    post_logout_redirect_uri: BYE,
    state: 'bye-state',
  });
  const confirm = await browser.follow(end.href, BYE);
  assert.equal(confirm.status, 200);
  const form = parseForm(confirm.body, confirm.url);
  const done = await browser.follow(form.action, BYE, { form: { ...form.fields, logout: 'yes' } });
  assert.ok(done.location?.startsWith(BYE), `back at the client: ${done.location}`);
  assert.equal(new URL(done.location as string).searchParams.get('state'), 'bye-state');
  assert.equal(logoutTokens.length, 1);
  const jwks = createRemoteJWKSet(new URL(`${op.issuer}/jwks`));
  const { payload } = await jwtVerify(logoutTokens[0] as string, jwks, {
    issuer: op.issuer,
    audience: 'gatehouse',
  });
  assert.equal(payload.sub, 'carol');
  assert.equal(payload.sid, sid);
  assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  assert.equal(payload.nonce, undefined, 'a logout token never carries a nonce');
});

test('dev provider: backchannelLogout() posts a signed logout_token for a subject and sid', async () => {
  logoutTokens.length = 0;
  await op.backchannelLogout('bob', 'sid-123');
  await op.backchannelLogout('alice');
  assert.equal(logoutTokens.length, 2);
  const jwks = createRemoteJWKSet(new URL(`${op.issuer}/jwks`));
  const a = await jwtVerify(logoutTokens[0] as string, jwks, { issuer: op.issuer, audience: 'gatehouse' });
  assert.equal(a.payload.sub, 'bob');
  assert.equal(a.payload.sid, 'sid-123');
  assert.ok(a.payload.events, 'a.payload.events');
  const b = await jwtVerify(logoutTokens[1] as string, jwks, { issuer: op.issuer, audience: 'gatehouse' });
  assert.equal(b.payload.sub, 'alice');
  assert.equal(b.payload.sid, undefined);
});

test('dev provider: close() frees the port', async () => {
  const own = await startDevProvider({
    clients: [{ client_id: 'x', client_secret: SECRET, redirect_uris: [REDIRECT] }],
    logger: pino({ level: 'silent' }),
  });
  const res = await fetch(`${own.issuer}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  await own.close();
  await assert.rejects(fetch(`${own.issuer}/.well-known/openid-configuration`));
});
