import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';

let idp: IdpServer;
let upstream: RecordingUpstream;
let gw: TestGateway;
let branded: TestGateway;
let dir: string;

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    providers: { main: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri } },
    upstreams: { app: { url: upstream.url } },
    routes: [
      {
        name: 'admin',
        match: { path: '/admin' },
        upstream: 'app',
        auth: 'bearer',
        rules: [{ name: 'admins', effect: 'allow', when: { group: 'admins' } }],
      },
      {
        name: 'ops',
        match: { path: '/ops' },
        upstream: 'app',
        auth: 'bearer',
        rules: [
          { name: 'no-contractors', effect: 'deny', when: { group: 'contractors' } },
          { effect: 'allow', when: { role: 'Ops' } },
        ],
      },
    ],
    ...extra,
  };
}

before(async () => {
  idp = await startIdp();
  upstream = await startUpstream();
  dir = mkdtempSync(join(tmpdir(), 'gh-pages-'));
  gw = await startGatehouse(config());
  writeFileSync(
    join(dir, 'error.html'),
    '<!doctype html><html><head><title>{{title}} — {{brand_title}}</title>{{style}}</head>\n' +
      '<body><div id="brand">{{brand_title}}</div>{{#if logo_url}}<img id="logo" src="{{logo_url}}">{{/if}}\n' +
      '<p id="why" data-code="{{reason_code}}">{{reason}}</p>{{#if user}}<p id="who">{{user}}</p>{{/if}}\n' +
      '<footer>ref {{request_id}}</footer></body></html>\n',
  );
  writeFileSync(join(dir, 'brand.css'), 'body { background: #fafafa; } /* contoso-brand */\n');
  branded = await startGatehouse(
    config({
      server: { trusted_proxies: ['127.0.0.1/32'] },
      pages: {
        templates: { error: 'error.html' },
        branding: { title: 'Contoso Intranet', logo_url: '/static/logo.svg', css_file: 'brand.css' },
      },
    }),
    { baseDir: dir },
  );
});

after(async () => {
  await branded?.close();
  await gw?.close();
  await upstream?.close();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; id: string; type: string; body: string }> {
  const r = await fetch(`${base}${path}`, { headers });
  return {
    status: r.status,
    id: r.headers.get('x-request-id') ?? '',
    type: r.headers.get('content-type') ?? '',
    body: await r.text(),
  };
}

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

test('a browser refused by a group rule sees who it is, the group the page needs and the request id', async () => {
  const token = await idp.token({ sub: 'u-1', email: 'bob@example.com', groups: ['eng'] });
  const r = await get(gw.url, '/admin/users', { accept: HTML, authorization: `Bearer ${token}` });
  assert.equal(r.status, 403);
  assert.match(r.type, /^text\/html/);
  assert.match(r.body, /<h1>Access denied<\/h1>/);
  assert.match(r.body, /You are signed in as <strong>bob@example\.com<\/strong>/);
  assert.match(r.body, /This page needs membership of group admins\./);
  assert.ok(r.id.length > 0 && r.body.includes(r.id), 'the page shows the request id');
  assert.match(r.body, /reason <code>group_required<\/code>/);
  assert.ok(!r.body.includes(token.split('.')[1]!), 'never the token');
  assert.ok(!r.body.includes('eng'), 'never a group the rule does not name');
  assert.ok(!r.body.includes('admins/'), 'never the rule name');
  const ev = gw.audit.find((e) => e.request_id === r.id);
  assert.equal(ev?.error, 'GH_ACCESS_DENIED');
});

test('a hostile claim value is escaped, never markup', async () => {
  const token = await idp.token({ sub: 'u-2', name: '<script>alert("x")</script>', groups: [] });
  const r = await get(gw.url, '/admin', { accept: HTML, authorization: `Bearer ${token}` });
  assert.equal(r.status, 403);
  assert.ok(!r.body.includes('<script>alert'), r.body);
  assert.match(r.body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
});

test('API clients get the same safe reason code in JSON, next to the error code and request id', async () => {
  const token = await idp.token({ sub: 'svc', email: 'svc@example.com', groups: ['eng'] });
  const r = await get(gw.url, '/admin', { accept: 'application/json', authorization: `Bearer ${token}` });
  assert.equal(r.status, 403);
  assert.deepEqual(JSON.parse(r.body), {
    error: 'GH_ACCESS_DENIED',
    message: 'Access denied.',
    reason: 'group_required',
    request_id: r.id,
  });
  const deny = await get(gw.url, '/ops', {
    authorization: `Bearer ${await idp.token({ groups: ['contractors'], roles: ['Ops'] })}`,
  });
  assert.equal((JSON.parse(deny.body) as { reason: string }).reason, 'denied_by_rule');
  const none = await get(gw.url, '/admin', {});
  assert.equal(none.status, 401);
  assert.equal((JSON.parse(none.body) as { reason: string }).reason, 'authentication_required');
  const now = Math.floor(Date.now() / 1000);
  const expired = await idp.token({ groups: ['admins'], iat: now - 7200, exp: now - 3600 });
  const exp = await get(gw.url, '/admin', { authorization: `Bearer ${expired}` });
  assert.equal(exp.status, 401);
  assert.equal((JSON.parse(exp.body) as { reason: string }).reason, 'credential_expired');
});

test('a 401 page for a browser says what is missing in plain words', async () => {
  const r = await get(gw.url, '/admin', { accept: HTML });
  assert.equal(r.status, 401);
  assert.match(r.body, /<h1>Sign-in required<\/h1>/);
  assert.match(r.body, /This page needs you to sign in\./);
  assert.ok(r.body.includes(r.id), 'r.body.includes(r.id)');
});

test("the operator's template and branding are used, and stay escaped", async () => {
  const token = await idp.token({ sub: 'u-3', name: '<img src=x onerror=alert(1)>', groups: ['eng'] });
  const r = await get(branded.url, '/admin', { accept: HTML, authorization: `Bearer ${token}` });
  assert.equal(r.status, 403);
  assert.match(r.body, /<title>Access denied — Contoso Intranet<\/title>/);
  assert.match(r.body, /<div id="brand">Contoso Intranet<\/div>/);
  assert.match(r.body, /<img id="logo" src="\/static\/logo\.svg">/);
  assert.match(r.body, /contoso-brand/, 'the operator CSS is inlined');
  assert.match(
    r.body,
    /<p id="why" data-code="group_required">This page needs membership of group admins\.<\/p>/,
  );
  assert.match(r.body, /<p id="who">&lt;img src=x onerror=alert\(1\)&gt;<\/p>/);
  assert.match(r.body, new RegExp(`<footer>ref ${r.id}</footer>`));
  const notFound = await get(branded.url, '/nothing-here', { accept: HTML });
  assert.equal(notFound.status, 404);
  assert.match(notFound.body, /<div id="brand">Contoso Intranet<\/div>/, 'every error page uses it');
});

test('forward-auth refusals (Traefik, Caddy) use the same pages and reasons', async () => {
  const token = await idp.token({ sub: 'u-4', email: 'dan@example.com', groups: ['eng'] });
  const r = await get(branded.url, '/.gatehouse/auth', {
    accept: HTML,
    authorization: `Bearer ${token}`,
    'x-forwarded-uri': '/admin/panel',
    'x-forwarded-method': 'GET',
    'x-forwarded-host': 'app.example',
    'x-forwarded-proto': 'https',
  });
  assert.equal(r.status, 403);
  assert.match(r.body, /<div id="brand">Contoso Intranet<\/div>/);
  assert.match(r.body, /<p id="who">dan@example\.com<\/p>/);
  assert.match(r.body, /data-code="group_required">This page needs membership of group admins\./);
});

test('templates are read at load and reload: a broken one is refused by name and line, the running pages stay', async () => {
  const file = join(dir, 'error.html');
  const good = readFileSync(file, 'utf8');
  const token = await idp.token({ sub: 'u-5', email: 'erin@example.com', groups: [] });
  const page = () => get(branded.url, '/admin', { accept: HTML, authorization: `Bearer ${token}` });
  writeFileSync(file, '<p>\n{{#if user}}{{user}}\n');
  await assert.rejects(branded.gateway.reload(branded.gateway.state.config), (e: Error) =>
    /pages\.templates\.error: \S+error\.html: line 2: \{\{#if user\}\} is never closed/.test(e.message),
  );
  assert.match((await page()).body, /<div id="brand">Contoso Intranet<\/div>/, 'the running template stays');
  writeFileSync(file, '<main class="v2">{{reason}} ({{request_id}})</main>');
  await branded.gateway.reload(branded.gateway.state.config);
  const r = await page();
  assert.equal(r.body, `<main class="v2">This page needs membership of group admins. (${r.id})</main>`);
  writeFileSync(file, good);
});
