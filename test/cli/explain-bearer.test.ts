import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { runExplain } from '../../src/cli/explain.js';
import type { ExplainReport } from '../../src/authz/explain-report.js';

let idp: IdpServer;
let dir: string;
let cfg: string;

before(async () => {
  idp = await startIdp();
  dir = mkdtempSync(join(tmpdir(), 'gh-explain-bearer-'));
  cfg = join(dir, 'gatehouse.yaml');
  writeFileSync(
    cfg,
    JSON.stringify({
      providers: { main: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri } },
      upstreams: { app: { url: 'http://127.0.0.1:9' } },
      routes: [
        {
          name: 'admin',
          match: { host: 'app.example.com', path: '/admin' },
          upstream: 'app',
          auth: 'bearer',
          rules: [
            { name: 'admins', effect: 'allow', when: { group: 'admins' } },
            { name: 'api', effect: 'allow', when: { token_kind: 'client', scope: 'admin.api' } },
          ],
        },
      ],
    }),
  );
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await idp.close();
});

async function explain(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w = (f: (s: string) => void) =>
    new Writable({
      write(c: Buffer, _e, cb) {
        f(c.toString());
        cb();
      },
    });
  const code = await runExplain(argv, { stdout: w((s) => (out += s)), stderr: w((s) => (err += s)) });
  return { code, out, err };
}

test('why does Alice get 403: every token check, the principal, each rule, the decision', async () => {
  const token = await idp.token({ sub: 'alice', groups: ['eng'] });
  const r = await explain('-c', cfg, '--token', token, 'GET', 'https://app.example.com/admin/users');
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /Route +✓ admin/);
  assert.match(r.out, /✓ signature/i);
  assert.match(r.out, /subject +alice \(user, jwt\)/);
  assert.match(r.out, /✗ +admin\/admins when group "admins" — groups: \["eng"\]/);
  assert.match(
    r.out,
    /Decision +DENY 403 GH_ACCESS_DENIED \(rule\.default_deny, group\.missing:admins, scope\.missing:admin\.api\) by admin\n/,
  );
  assert.match(
    r.out,
    /the client is told: group_required — "This page needs membership of group admins or the scope admin\.api\."/,
  );
  assert.ok(!r.out.includes(token) && !r.out.includes(token.split('.')[2]!), 'the token is never printed');
});

test('allowed token from a file, as JSON', async () => {
  const file = join(dir, 'token.jwt');
  writeFileSync(file, `${await idp.token({ groups: ['admins'] })}\n`);
  const r = await explain('--json', '-c', cfg, '--token', `@${file}`, 'GET', 'https://app.example.com/admin');
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out) as ExplainReport;
  assert.equal(rep.decision?.allow, true);
  assert.equal(rep.decision?.rule, 'admin/admins');
  assert.ok(rep.authentication.checks.length >= 5, 'every token check is listed');
  assert.ok(
    rep.authentication.checks.every((c) => c.pass),
    'rep.authentication.checks.every((c) => c.pass)',
  );
});

test('an expired token: the failing check and 401 invalid_token', async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = await idp.token({ groups: ['admins'], iat: now - 7200, exp: now - 3600 });
  const r = await explain('--json', '-c', cfg, '--token', token, 'GET', 'https://app.example.com/admin');
  assert.equal(r.code, 1);
  const rep = JSON.parse(r.out) as ExplainReport;
  assert.equal(rep.decision?.status, 401);
  assert.ok(rep.authentication.error?.code, 'rep.authentication.error?.code');
  assert.equal(rep.decision?.public_reason?.code, 'credential_expired');
  assert.ok(
    rep.authentication.checks.some((c) => !c.pass && /exp/i.test(c.check)),
    JSON.stringify(rep.authentication.checks),
  );
  assert.deepEqual(rep.rules, [], 'rules are not evaluated without an identity');
});

test('a token lacking only a scope: insufficient_scope with the header a client would get', async () => {
  const r = await explain(
    '--json',
    '-c',
    cfg,
    '--token',
    await idp.token({ sub: 'svc', azp: 'svc', scope: 'other' }),
    'GET',
    'https://app.example.com/admin',
  );
  const rep = JSON.parse(r.out) as ExplainReport;
  assert.equal(rep.decision?.code, 'GH_INSUFFICIENT_SCOPE');
  assert.equal(rep.decision?.www_authenticate, 'Bearer error="insufficient_scope", scope="admin.api"');
});
