import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { runExplain } from '../../src/cli/explain.js';
import type { PastReport } from '../../src/explain/past.js';

let idp: IdpServer;
let upstream: RecordingUpstream;
let dir: string;
let cfgFile: string;
const ids: Record<string, string> = {};

function config(auditFile: string, level: 'info' | 'debug'): Record<string, unknown> {
  return {
    providers: { main: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri } },
    upstreams: { app: { url: upstream.url } },
    audit: { file: auditFile, level },
    policies: {
      staff: {
        rules: [
          { name: 'contractors', effect: 'deny', when: { group: 'contractors' } },
          { name: 'staff', effect: 'allow', when: { group: 'staff' } },
        ],
      },
    },
    routes: [
      {
        name: 'admin',
        match: { path: '/admin' },
        upstream: 'app',
        auth: 'bearer',
        policy: 'staff',
        rules: [{ name: 'admins', effect: 'allow', when: { group: 'admins' } }],
      },
      { name: 'home', match: { path: '/home' }, upstream: 'app', auth: 'none' },
    ],
  };
}

async function send(base: string, path: string, token?: string): Promise<string> {
  const r = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await r.text();
  return r.headers.get('x-request-id') ?? '';
}

before(async () => {
  idp = await startIdp();
  upstream = await startUpstream();
  dir = mkdtempSync(join(tmpdir(), 'gh-explain-rid-'));
  const audit = join(dir, 'audit.jsonl');
  const gw = await startGatehouse(config(audit, 'info'));
  try {
    ids.allowed = await send(
      gw.url,
      '/admin/x',
      await idp.token({ sub: 'alice', groups: ['staff', 'admins'] }),
    );
    ids.denied = await send(gw.url, '/admin/x', await idp.token({ sub: 'bob', groups: ['staff'] }));
    ids.denyRule = await send(
      gw.url,
      '/admin',
      await idp.token({ sub: 'eve', groups: ['contractors', 'admins'] }),
    );
    ids.noToken = await send(gw.url, '/admin');
    ids.noRoute = await send(gw.url, '/nowhere');
    ids.public = await send(gw.url, '/home');
  } finally {
    await gw.close();
  }
  const dbg = await startGatehouse(config(join(dir, 'debug.jsonl'), 'debug'));
  try {
    ids.debug = await send(dbg.url, '/admin', await idp.token({ sub: 'bob', groups: ['staff'] }));
  } finally {
    await dbg.close();
  }
  cfgFile = join(dir, 'gatehouse.yaml');
  writeFileSync(cfgFile, JSON.stringify(config('audit.jsonl', 'info')));
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await upstream?.close();
  await idp?.close();
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

test('the audit event carries the decision summary at level info: rule by route name, upstream time', () => {
  const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
  const ev = JSON.parse(lines.find((l) => l.includes(ids.allowed!))!) as Record<string, unknown>;
  assert.equal(ev.rule, 'staff/staff,admin/admins');
  assert.equal(ev.auth_method, 'jwt');
  assert.equal(typeof ev.upstream_ms, 'number');
  assert.ok(
    (ev.upstream_ms as number) <= (ev.latency_ms as number),
    '(ev.upstream_ms as number) <= (ev.latency_ms as number)',
  );
  assert.equal(ev.trace, undefined, 'no trace at level info');
});

test('an allowed request: route, credential, each check, the rules, upstream status and timings', async () => {
  const r = await explain('-c', cfgFile, '--request-id', ids.allowed!);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`Request +${ids.allowed} at `));
  assert.match(r.out, /GET 127\.0\.0\.1\/admin\/x from 127\.0\.0\.1/);
  assert.match(r.out, /Route +admin \(routes\[0\]\), auth: bearer/);
  assert.match(r.out, /Credential jwt \(subject alice, user, provider main/);
  assert.match(r.out, /✓ authentication — jwt verified alice \(provider main\)/);
  assert.match(r.out, /✓ authorisation — allowed by staff\/staff,admin\/admins \(rule\.allow\)/);
  assert.match(r.out, /✓ rule staff\/contractors \(deny\) — did not match/);
  assert.match(r.out, /✓ rule admin\/admins \(allow\) — matched: decided/);
  assert.match(r.out, /✓ upstream — answered 200 in [\d.]+ ms/);
  assert.match(r.out, /Timings +total [\d.]+ ms, upstream [\d.]+ ms, gateway [\d.]+ ms/);
});

test('refusals: default deny, a deny rule, no credential, no route (--json)', async () => {
  const denied = await explain('-c', cfgFile, '--request-id', ids.denied!);
  assert.equal(denied.code, 1);
  assert.match(
    denied.out,
    /Decision +DENY 403 GH_ACCESS_DENIED \(rule\.default_deny, group\.missing:admins\) by admin\n/,
  );
  assert.match(denied.out, /the client was told: group_required\n/);
  assert.match(denied.out, /✓ policy staff — allows/);
  assert.match(denied.out, /✗ policy admin — denies \(no allow rule matched\)/);
  assert.match(denied.out, /✗ rule admin\/admins \(allow\) — did not match/);

  const rule = JSON.parse(
    (await explain('--json', '-c', cfgFile, '--request-id', ids.denyRule!)).out,
  ) as PastReport;
  assert.equal(rule.decision.rule, 'staff/contractors');
  assert.deepEqual(
    rule.rules.map((t) => [t.check, t.pass, t.detail]),
    [
      ['policy staff', false, 'denies by staff/contractors'],
      ['rule staff/contractors (deny)', false, 'matched: decided'],
      ['rule staff/staff (allow)', true, 'not evaluated'],
      ['policy admin', false, 'not evaluated (an earlier policy decided)'],
    ],
  );

  const none = JSON.parse(
    (await explain('--json', '-c', cfgFile, '--request-id', ids.noToken!)).out,
  ) as PastReport;
  assert.equal(none.decision.status, 401);
  assert.equal(none.credential.kind, 'none verified');
  assert.equal(none.decision.public_reason, 'authentication_required');
  assert.ok(
    none.checks.some(
      (c) => c.check === 'authentication' && !c.pass && /GH_UNAUTHENTICATED/.test(c.detail ?? ''),
    ),
    "none.checks.some((c) => c.check === 'authentication' && !c.pass && /GH_UNAUTHENTICATED/.test(c.detail ?? ''))",
  );

  const miss = JSON.parse(
    (await explain('--json', '-c', cfgFile, '--request-id', ids.noRoute!)).out,
  ) as PastReport;
  assert.equal(miss.route, undefined);
  assert.deepEqual(miss.checks, [{ check: 'route', pass: false, detail: 'GH_ROUTE_NOT_FOUND' }]);

  const pub = JSON.parse(
    (await explain('--json', '-c', cfgFile, '--request-id', ids.public!)).out,
  ) as PastReport;
  assert.equal(pub.credential.kind, 'none (public route)');
  assert.equal(pub.upstream?.status, 200);
});

test('audit level debug: the recorded trace is shown, every criterion; file sinks are read by default', async () => {
  const r = await explain(
    '--json',
    '-c',
    cfgFile,
    '--request-id',
    ids.debug!,
    '--audit',
    join(dir, 'debug.jsonl'),
  );
  assert.equal(r.code, 1, r.err);
  const rep = JSON.parse(r.out) as PastReport;
  assert.equal(rep.rules_source, 'trace');
  const sinks = join(dir, 'sinks.yaml');
  writeFileSync(
    sinks,
    JSON.stringify({ ...config('x', 'debug'), audit: { sinks: [{ type: 'file', path: 'debug.jsonl' }] } }),
  );
  const viaSink = await explain('-c', sinks, '--request-id', ids.debug!);
  assert.equal(viaSink.code, 1, `a file sink of audit.sinks is read by default: ${viaSink.err}`);
  assert.ok(
    rep.rules.some(
      (t) => /admin\/admins when group "admins"/.test(t.check) && t.detail === 'groups: ["staff"]',
    ),
    'rep.rules.some((t) => /admin\\/admins when group "admins"/.test(t.check) && t.detail === \'groups: ["staff"]\')',
  );
});

test('rotated and compressed files given explicitly; big files are streamed; a torn last line is skipped', async () => {
  const rotated = join(dir, 'audit.jsonl.1.gz');
  writeFileSync(rotated, gzipSync(readFileSync(join(dir, 'audit.jsonl'))));
  const big = join(dir, 'big.jsonl');
  const filler = `${JSON.stringify({ time: new Date().toISOString(), type: 'request', request_id: 'x', decision: 'allow', reasons: [], status: 200, latency_ms: 1 })}\n`;
  const chunk = filler.repeat(10_000);
  for (let i = 0; i < 30; i++) appendFileSync(big, chunk);
  appendFileSync(big, '{"time":"2026-01-01T00:00:00Z","type":"request","request_id":"torn');
  const size = statSync(big).size;
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 2);
  const r = await explain('-c', cfgFile, '--request-id', ids.denied!, '--audit', big, '--audit', rotated);
  clearInterval(sampler);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /Found in +\S+audit\.jsonl\.1\.gz:\d+ \(request\)/);
  assert.ok(peak - base < size / 2, `heap grew ${peak - base} bytes scanning a ${size}-byte file`);
});

test('unknown request id, no audit file, unreadable file, bad usage: exit 2 with a specific error', async () => {
  const nf = await explain('-c', cfgFile, '--request-id', 'no-such-id');
  assert.equal(nf.code, 2);
  assert.match(nf.err, /GH_EXPLAIN_REQUEST_NOT_FOUND: request id no-such-id is in none of \S+audit\.jsonl/);
  const noAudit = join(dir, 'no-audit.yaml');
  writeFileSync(noAudit, JSON.stringify({ ...config('x', 'info'), audit: {} }));
  const na = await explain('-c', noAudit, '--request-id', ids.denied!);
  assert.equal(na.code, 2);
  assert.match(na.err, /GH_EXPLAIN_AUDIT_UNREADABLE: no audit file/);
  const missing = await explain(
    '-c',
    cfgFile,
    '--request-id',
    ids.denied!,
    '--audit',
    join(dir, 'gone.jsonl'),
  );
  assert.equal(missing.code, 2);
  assert.match(missing.err, /GH_EXPLAIN_AUDIT_UNREADABLE: cannot read \S+gone\.jsonl: ENOENT/);
  const usage = await explain('-c', cfgFile, '--request-id', ids.denied!, 'GET', 'https://x/');
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--request-id explains a past request/);
});
