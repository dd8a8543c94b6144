import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runExplain } from '../../src/cli/explain.js';
import { hashApiKey } from '../../src/authn/apikey.js';
import type { ExplainReport } from '../../src/authz/explain-report.js';

const KEY = 'explain-test-key-0123456789';
let dir: string;
let cfg: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gh-explain-'));
  cfg = join(dir, 'gatehouse.yaml');
  writeFileSync(
    cfg,
    `
upstreams:
  app: { url: "http://127.0.0.1:9" }
api_keys:
  keys:
    - { id: k-bot, hash: "${hashApiKey(KEY)}", client_id: reporting-bot, scopes: ["orders:read"], roles: [viewer] }
policies:
  readers:
    rules:
      - { name: no-deletes, effect: deny, when: { method: DELETE } }
      - { name: read, effect: allow, when: { token_kind: client, scope: "orders:read" } }
  admins:
    rules:
      - { name: admins, effect: allow, when: { any: [ { role: admin }, { scope: "orders:admin" } ] } }
routes:
  - { name: orders, match: { path: /orders }, upstream: app, auth: apikey, policy: readers }
  - { name: admin, match: { path: /admin }, upstream: app, auth: apikey, policy: [readers, admins] }
  - { name: lan, match: { path: /lan }, upstream: app, auth: none, rules: [ { effect: allow, when: { source_ip: "10.0.0.0/8" } } ] }
  - { name: home, match: { host: www.example.com, path: / }, upstream: app, auth: none }
`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function explain(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        append(chunk.toString());
        cb();
      },
    });
  const code = await runExplain(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) });
  return { code, out, err };
}

test('an allowed request: exit 0, the route, the principal and the deciding rule', async () => {
  const r = await explain(
    '-c',
    cfg,
    '-H',
    `X-API-Key: ${KEY}`,
    'GET',
    'https://api.example.com/orders/42?x=1',
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Route +✓ orders \(routes\[0\]\)/);
  assert.match(r.out, /subject +reporting-bot \(client, apikey\)/);
  assert.match(r.out, /✓ rule readers\/read \(allow\)/);
  assert.match(r.out, /Decision +ALLOW 200 \(rule\.allow\) by readers\/read/);
  assert.ok(!r.out.includes(KEY), 'the credential is never printed');
});

test('a refused request: exit 1 and every rule with why it did not match (--json)', async () => {
  const r = await explain(
    '--json',
    '-c',
    cfg,
    '--header',
    `x-api-key: ${KEY}`,
    'GET',
    'https://api.example.com/admin/users',
  );
  assert.equal(r.code, 1, r.err);
  const rep = JSON.parse(r.out) as ExplainReport;
  assert.equal(rep.route?.matched, true);
  assert.equal(rep.decision?.status, 403);
  assert.equal(rep.decision?.code, 'GH_ACCESS_DENIED');
  assert.equal(rep.decision?.rule, 'admins');
  assert.deepEqual(rep.decision?.reasons, [
    'rule.default_deny',
    'scope.missing:orders:admin',
    'role.missing:admin',
  ]);
  const checks = rep.rules.map((t) => [t.check.trim(), t.pass]);
  assert.deepEqual(checks[0], ['policy readers', true]);
  assert.ok(
    checks.some(([c, p]) => c === 'rule admins/admins (allow)' && p === false),
    "checks.some(([c, p]) => c === 'rule admins/admins (allow)' && p === false)",
  );
  assert.ok(
    rep.rules.some((t) => t.check.includes('scope "orders:admin"') && t.detail === 'scopes: ["orders:read"]'),
    'rep.rules.some((t) => t.check.includes(\'scope "orders:admin"\') && t.detail === \'scopes: ["orders:read"]\')',
  );
  assert.equal(rep.authentication.principal?.subject, 'reporting-bot');
  assert.ok(!r.out.includes(KEY), '!r.out.includes(KEY)');
});

test('a deny rule: the rule that denied is named', async () => {
  const r = await explain(
    '-c',
    cfg,
    '-H',
    `X-API-Key: ${KEY}`,
    'DELETE',
    'https://api.example.com/orders/42',
  );
  assert.equal(r.code, 1);
  assert.match(r.out, /Decision +DENY 403 GH_ACCESS_DENIED \(rule\.deny\) by readers\/no-deletes/);
});

test('no credential: 401 with the challenge', async () => {
  const r = await explain('-c', cfg, 'GET', 'https://api.example.com/orders');
  assert.equal(r.code, 1);
  assert.match(r.out, /✗ credential — the request carries no credential/);
  assert.match(r.out, /DENY 401 GH_UNAUTHENTICATED/);
  assert.match(r.out, /WWW-Authenticate: APIKey/);
});

test('an invalid credential: the authenticator error', async () => {
  const r = await explain(
    '--json',
    '-c',
    cfg,
    '-H',
    'X-API-Key: wrong-key-0123456789abcdef',
    'GET',
    'https://api.example.com/orders',
  );
  assert.equal(r.code, 1);
  const rep = JSON.parse(r.out) as ExplainReport;
  assert.equal(rep.decision?.status, 401);
  assert.ok(rep.authentication.error?.code, 'rep.authentication.error?.code');
});

test('the path is normalised before matching, exactly like the proxy', async () => {
  const r = await explain('--json', '-c', cfg, 'GET', 'https://www.example.com/a/../%6Frders/./x');
  const rep = JSON.parse(r.out) as ExplainReport;
  assert.equal(rep.request.path, '/orders/x');
  assert.equal(rep.route?.matched, true);
  const amb = await explain('-c', cfg, 'GET', 'https://www.example.com/public/..%2forders');
  assert.equal(amb.code, 1);
  assert.match(amb.out, /GH_PATH_AMBIGUOUS/);
});

test('public routes, request rules and --client-ip', async () => {
  const home = await explain('-c', cfg, 'GET', 'https://www.example.com/');
  assert.equal(home.code, 0);
  assert.match(home.out, /ALLOW 200 \(route\.public\)/);
  const outside = await explain('-c', cfg, 'GET', 'https://intranet.example.net/lan');
  assert.equal(outside.code, 1);
  assert.match(outside.out, /DENY 403 GH_ACCESS_DENIED/);
  assert.match(outside.out, /source_ip "10\.0\.0\.0\/8" — client ip: 127\.0\.0\.1/);
  const inside = await explain(
    '-c',
    cfg,
    '--client-ip',
    '10.1.2.3',
    'GET',
    'https://intranet.example.net/lan',
  );
  assert.equal(inside.code, 0);
});

test('no matching route: why', async () => {
  const r = await explain('-c', cfg, 'GET', 'https://other.example.org/nothing');
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /Route +✗ GH_ROUTE_NOT_FOUND: no route matches host "other.example.org" and path "\/nothing"/,
  );
});

test('usage and config errors exit 2', async () => {
  assert.equal((await explain('GET', 'https://x/')).code, 2);
  assert.equal((await explain('-c', cfg, 'GET')).code, 2);
  assert.equal((await explain('-c', cfg, '--bogus', 'GET', 'https://x/')).code, 2);
  assert.equal((await explain('-c', join(dir, 'missing.yaml'), 'GET', 'https://x/')).code, 2);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'routes:\n  - { upstream: "http://127.0.0.1:9", auth: apikey, rules: [ { effect: allow, when: { groupz: a } } ] }\n',
  );
  const r = await explain('-c', bad, 'GET', 'https://x/');
  assert.equal(r.code, 2);
  assert.match(r.err, /routes\[0\]\.rules\[0\]\.when\.groupz: unknown key/);
  const token = await explain(
    '-c',
    cfg,
    '--token',
    `@${join(dir, 'no-such-token')}`,
    'GET',
    'https://api.example.com/orders',
  );
  assert.equal(token.code, 2);
});
