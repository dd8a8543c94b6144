import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startSso, SECRET, type SsoFixture } from '../oidc/fixture.js';
import { TestBrowser } from '../oidc/browser-client.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { runExplain } from '../../src/cli/explain.js';
import type { ExplainReport } from '../../src/authz/explain-report.js';

const COOKIE = 'gatehouse_session';
let redis: RedisServer;
let f: SsoFixture;
let dir: string;
let cfg: string;
let bob: TestBrowser;
let bobId: string;

/** The fixture's config as a file for `explain`, with the session secret filled in. */
function writeConfig(name: string, session: Record<string, unknown>): string {
  const doc = JSON.parse(JSON.stringify(f.config).replaceAll('${TEST_SESSION_SECRET}', SECRET)) as {
    session: Record<string, unknown>;
  };
  doc.session = { ...doc.session, ...session };
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

before(async () => {
  redis = await startRedis();
  f = await startSso({ session: { store: 'redis', redis: { url: redis.url } } });
  dir = mkdtempSync(join(tmpdir(), 'gh-explain-session-'));
  cfg = writeConfig('gatehouse.yaml', {});
  bob = new TestBrowser();
  const page = await bob.login(`${f.url}/`, 'bob', 'bob-dev-password');
  assert.equal(page.status, 200);
  bobId = bob.cookies(f.url).get(COOKIE) as string;
  assert.ok(bobId, 'bobId');
});

after(async () => {
  await f?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function explain(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w = (fn: (s: string) => void) =>
    new Writable({
      write(c: Buffer, _e, cb) {
        fn(c.toString());
        cb();
      },
    });
  const code = await runExplain(argv, { stdout: w((s) => (out += s)), stderr: w((s) => (err += s)) });
  return { code, out, err };
}

test('a signed-in browser refused by a group rule: the reason, the request id, sign out and switch account', async () => {
  const page = await bob.send(`${f.url}/admin/settings`);
  assert.equal(page.status, 403);
  assert.match(page.body, /You are signed in as <strong>bob@contoso\.example<\/strong>/);
  assert.match(page.body, /This page needs membership of group admins\./);
  const id = page.headers.get('x-request-id') as string;
  assert.ok(page.body.includes(id), 'page.body.includes(id)');
  assert.match(page.body, /<a class="button secondary" href="\/\.gatehouse\/logout">Sign out<\/a>/);
  const sw = /<a class="button" href="([^"]+)">Switch account<\/a>/.exec(page.body)?.[1];
  assert.equal(sw, '/.gatehouse/login?prompt=select_account&amp;rd=%2Fadmin%2Fsettings');
  const toIdp = await bob.send(new URL(sw!.replaceAll('&amp;', '&'), f.url).href);
  assert.equal(toIdp.status, 302);
  const auth = new URL(toIdp.headers.get('location') as string);
  assert.equal(
    auth.searchParams.get('prompt'),
    'select_account',
    'the IdP is asked to offer another account',
  );
});

test('explain --cookie: the session read from Redis, the principal, the rules and the decision', async () => {
  const r = await explain('-c', cfg, '--cookie', `other=1; ${COOKIE}=${bobId}`, 'GET', `${f.url}/admin`);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /✓ session cookie — gatehouse_session present/);
  assert.match(r.out, /✓ session store \(redis\) — found, created \d+ s ago/);
  assert.match(r.out, /✓ absolute lifetime — ends in \d+ h/);
  assert.match(r.out, /✓ idle timeout — last seen \d+ s ago/);
  assert.match(r.out, /subject +bob \(user, session\)/);
  assert.match(r.out, /✗ +admin\/admins-only when group "admins" — groups: \["staff"\]/);
  assert.match(
    r.out,
    /Decision +DENY 403 GH_ACCESS_DENIED \(rule\.default_deny, group\.missing:admins\) by admin\n/,
  );
  assert.ok(!r.out.includes(bobId), 'the session id is never printed');
  const ok = await explain('--json', '-c', cfg, '--session-id', bobId, 'GET', `${f.url}/`);
  assert.equal(ok.code, 0, ok.err);
  const rep = JSON.parse(ok.out) as ExplainReport;
  assert.equal(rep.decision?.allow, true);
  assert.equal(rep.authentication.principal?.email, 'bob@contoso.example');
});

test('explaining is read-only: the session keeps working afterwards', async () => {
  const before = await explain('--json', '-c', cfg, '--session-id', bobId, 'GET', `${f.url}/`);
  await explain('--json', '-c', cfg, '--session-id', bobId, 'GET', `${f.url}/`);
  const after = await explain('--json', '-c', cfg, '--session-id', bobId, 'GET', `${f.url}/`);
  const seen = (out: string) =>
    (JSON.parse(out) as ExplainReport).authentication.checks.find((c) => c.check === 'idle timeout')?.detail;
  assert.ok(
    seen(before.out) !== undefined && seen(after.out) !== undefined,
    'seen(before.out) !== undefined && seen(after.out) !== undefined',
  );
  assert.equal((await bob.send(`${f.url}/`)).status, 200, 'the session still works');
});

test('unknown, signed-out and malformed sessions: 401 as the gateway would answer, with why', async () => {
  const unknown = await explain('--json', '-c', cfg, '--session-id', 'A'.repeat(43), 'GET', `${f.url}/`);
  assert.equal(unknown.code, 1);
  const rep = JSON.parse(unknown.out) as ExplainReport;
  assert.equal(rep.decision?.status, 401);
  assert.ok(
    rep.authentication.checks.some((c) => !c.pass && /no session with this id/.test(c.detail ?? '')),
    "rep.authentication.checks.some((c) => !c.pass && /no session with this id/.test(c.detail ?? ''))",
  );
  const bad = await explain('-c', cfg, '--cookie', `${COOKIE}=short`, 'GET', `${f.url}/`);
  assert.match(bad.out, /✗ session id — not a session id/);
  const two = await explain(
    '-c',
    cfg,
    '--cookie',
    `${COOKIE}=${bobId}; ${COOKIE}=${bobId}`,
    'GET',
    `${f.url}/`,
  );
  assert.match(two.out, /✗ session cookie — 2 cookies named gatehouse_session: ambiguous/);
  const eve = new TestBrowser();
  await eve.login(`${f.url}/`, 'carol', 'carol-dev-password');
  const eveId = eve.cookies(f.url).get(COOKIE) as string;
  await eve.navigate(`${f.url}/.gatehouse/logout`);
  const ended = await explain('-c', cfg, '--session-id', eveId, 'GET', `${f.url}/`);
  assert.equal(ended.code, 1);
  assert.match(ended.out, /no session with this id/);
});

test('the memory store cannot be read from another process: exit 2, and why', async () => {
  const mem = writeConfig('memory.yaml', { store: 'memory', redis: undefined });
  const r = await explain('-c', mem, '--session-id', bobId, 'GET', `${f.url}/`);
  assert.equal(r.code, 2);
  assert.match(r.err, /GH_EXPLAIN_SESSION_STORE_MEMORY: session\.store is "memory"/);
});
