import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDemoApp } from '../../src/dev/demo-app.js';

let app: Awaited<ReturnType<typeof startDemoApp>>;
before(async () => {
  app = await startDemoApp({});
});
after(async () => {
  await app.close();
});

const identity = {
  'x-forwarded-user': 'alice',
  'x-forwarded-email': 'alice@contoso.example',
  'x-forwarded-groups': 'staff,admins',
};

test('demo app: greets the user from the identity headers and lists them', async () => {
  assert.match(app.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${app.url}/`, { headers: identity });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  assert.match(html, /<title>Contoso Intranet<\/title>/);
  assert.match(html, /Hello, <strong>alice<\/strong>!/);
  assert.match(html, /Email: alice@contoso\.example/);
  assert.match(html, /Groups: staff, admins/);
  assert.match(html, /<td>x-forwarded-groups<\/td><td>staff,admins<\/td>/i);
  assert.ok(!html.includes('Administration'), "!html.includes('Administration')");
});

test('demo app: every received header is shown HTML-escaped', async () => {
  const res = await fetch(`${app.url}/`, {
    headers: { 'x-forwarded-user': '<img src=x onerror=alert(1)>', 'x-evil': '"><script>alert(1)</script>' },
  });
  const html = await res.text();
  assert.ok(!html.includes('<script>alert(1)</script>'), "!html.includes('<script>alert(1)</script>')");
  assert.ok(!html.includes('<img src=x'), "!html.includes('<img src=x')");
  assert.ok(
    html.includes('&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;'),
    "html.includes('&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;')",
  );
  assert.ok(
    html.includes('Hello, <strong>&#60;img src=x onerror=alert(1)&#62;</strong>'),
    "html.includes('Hello, <strong>&#60;img src=x onerror=alert(1)&#62;</strong>')",
  );
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
});

test('demo app: decodes an Easy Auth X-MS-CLIENT-PRINCIPAL header', async () => {
  const principal = {
    auth_typ: 'aad',
    name_typ: 'name',
    role_typ: 'roles',
    claims: [
      { typ: 'name', val: 'Bob Brown' },
      { typ: 'email', val: 'bob@contoso.example' },
      { typ: 'roles', val: 'reader' },
      { typ: 'groups', val: 'staff' },
    ],
  };
  const b64 = Buffer.from(JSON.stringify(principal)).toString('base64');
  const html = await (await fetch(`${app.url}/`, { headers: { 'x-ms-client-principal': b64 } })).text();
  assert.match(html, /Hello, <strong>Bob Brown<\/strong>!/);
  assert.match(html, /X-MS-CLIENT-PRINCIPAL \(decoded\)/);
  assert.match(html, /Groups: reader, staff/);
  const who = (await (
    await fetch(`${app.url}/api/whoami`, { headers: { 'x-ms-client-principal': b64 } })
  ).json()) as Record<string, unknown>;
  assert.equal(who.user, 'Bob Brown');
  assert.equal(who.email, 'bob@contoso.example');
  assert.deepEqual(who.principal, principal);
  const junk = await fetch(`${app.url}/`, { headers: { 'x-ms-client-principal': '%%%not-base64-json' } });
  assert.equal(junk.status, 200);
  assert.match(await junk.text(), /anonymous visitor/);
});

test('demo app: /admin page and /api/whoami JSON', async () => {
  const admin = await fetch(`${app.url}/admin`, { headers: identity });
  assert.equal(admin.status, 200);
  assert.match(await admin.text(), /<h2>Administration<\/h2>/);
  const who = await fetch(`${app.url}/api/whoami?x=1`, { headers: identity });
  assert.equal(who.status, 200);
  assert.match(who.headers.get('content-type') ?? '', /application\/json/);
  const body = (await who.json()) as Record<string, unknown>;
  assert.equal(body.user, 'alice');
  assert.equal(body.email, 'alice@contoso.example');
  assert.deepEqual(body.groups, ['staff', 'admins']);
  assert.equal((body.headers as Record<string, string>)['x-forwarded-user'], 'alice');
});

test('demo app: without identity it says so; unknown pages 404; writes 405', async () => {
  const anon = await (await fetch(`${app.url}/`)).text();
  assert.match(anon, /anonymous visitor/);
  const anonWho = (await (await fetch(`${app.url}/api/whoami`)).json()) as Record<string, unknown>;
  assert.equal(anonWho.user, null);
  assert.deepEqual(anonWho.groups, []);
  assert.equal((await fetch(`${app.url}/nope`)).status, 404);
  const post = await fetch(`${app.url}/`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});
