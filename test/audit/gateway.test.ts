import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstream } from '../helpers/upstream.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { send, type Reply } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { hashApiKey } from '../../src/authn/apikey.js';
import type { AuditEvent } from '../../src/audit/event.js';

const KEY = 'audit-gw-key-0123456789abcdef';
const WRONG = 'audit-gw-wrong-0123456789abcd';

function config(
  upstreamUrl: string,
  deadUrl: string,
  audit: Record<string, unknown>,
): Record<string, unknown> {
  return {
    upstreams: { app: { url: upstreamUrl }, dead: { url: deadUrl } },
    api_keys: { keys: [{ id: 'k-ops', hash: hashApiKey(KEY), client_id: 'ops-bot', scopes: ['ops'] }] },
    audit,
    routes: [
      {
        name: 'ops',
        match: { path: '/ops' },
        upstream: 'app',
        auth: 'apikey',
        rules: [{ name: 'ops', effect: 'allow', when: { scope: 'ops' } }],
      },
      {
        name: 'admin',
        match: { path: '/admin' },
        upstream: 'app',
        auth: 'apikey',
        rules: [{ name: 'admins', effect: 'allow', when: { role: 'admin' } }],
      },
      { name: 'gone', match: { path: '/gone' }, upstream: 'dead', auth: 'none' },
      { name: 'open', match: { path: '/open' }, upstream: 'app', auth: 'none' },
    ],
  };
}

/** Kinds of request sent, with the status each must get. */
const KINDS: Array<{
  path: string;
  headers?: Record<string, string>;
  status: number;
  decision: AuditEvent['decision'];
}> = [
  { path: '/ops/a?token=x', headers: { 'x-api-key': KEY }, status: 200, decision: 'allow' },
  { path: '/admin/a', headers: { 'x-api-key': KEY }, status: 403, decision: 'deny' },
  { path: '/ops/a', status: 401, decision: 'deny' },
  { path: '/ops/a', headers: { 'x-api-key': WRONG }, status: 401, decision: 'deny' },
  { path: '/nowhere', status: 404, decision: 'deny' },
  { path: '/open/x', status: 200, decision: 'allow' },
  { path: '/gone', status: 502, decision: 'error' },
];

function requestId(r: Reply): string {
  const h = r.headers['x-request-id'];
  if (typeof h === 'string') return h;
  return String(r.json().request_id);
}

test('N requests in, N events out, under concurrency; file sink matches; no credential anywhere', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-gw-'));
  const up = await startUpstream();
  const dead = `http://127.0.0.1:${await freePort()}`;
  const gh = await startGatehouse(config(up.url, dead, { file: join(dir, 'audit.jsonl'), level: 'info' }));
  const N = 350;
  const replies: { kind: number; id: string; status: number }[] = [];
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        while (next < N) {
          const kind = next++ % KINDS.length;
          const k = KINDS[kind]!;
          const r = await send(gh.url, k.path, { headers: k.headers });
          replies.push({ kind, id: requestId(r), status: r.status });
        }
      }),
    );
  } finally {
    await gh.close();
    await up.close();
  }
  try {
    assert.equal(replies.length, N);
    for (const r of replies) assert.equal(r.status, KINDS[r.kind]!.status, `kind ${r.kind}`);
    assert.equal(gh.audit.length, N, 'exactly one event per request');
    const byId = new Map(gh.audit.map((e) => [e.request_id, e]));
    assert.equal(byId.size, N, 'request ids are unique');
    for (const r of replies) {
      const ev = byId.get(r.id);
      assert.ok(ev, `no event for ${r.id}`);
      assert.equal(ev.status, r.status);
      assert.equal(ev.decision, KINDS[r.kind]!.decision, `kind ${r.kind}: ${JSON.stringify(ev)}`);
    }
    const allowed = gh.audit.find((e) => e.route === 'ops' && e.status === 200)!;
    assert.deepEqual(
      [allowed.subject, allowed.credential_id, allowed.rule, allowed.path, allowed.upstream_status],
      ['ops-bot', 'k-ops', 'ops/ops', '/ops/a', 200],
    );
    const denied = gh.audit.find((e) => e.route === 'admin')!;
    assert.deepEqual([denied.error, denied.rule], ['GH_ACCESS_DENIED', 'admin']);
    assert.ok(denied.reasons.includes('role.missing:admin'), "denied.reasons.includes('role.missing:admin')");
    const file = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    const lines = file
      .trimEnd()
      .split('\n')
      .filter((l) => (JSON.parse(l) as AuditEvent).type === 'request');
    assert.equal(lines.length, N, 'file sink has every event');
    assert.deepEqual(
      new Set(lines.map((l) => (JSON.parse(l) as AuditEvent).request_id)),
      new Set(byId.keys()),
    );
    assert.ok(!file.includes(KEY) && !file.includes(WRONG), 'no credential in the audit file');
    assert.ok(!file.includes('token=x'), 'no query string in the audit file');
    assert.ok(!file.includes('"trace"'), 'no trace at level info');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit level debug: each event carries the decision trace', async () => {
  const up = await startUpstream();
  const gh = await startGatehouse(config(up.url, up.url, { level: 'debug' }));
  try {
    await send(gh.url, '/admin/x', { headers: { 'x-api-key': KEY } });
    const ev = gh.audit[gh.audit.length - 1]!;
    assert.equal(ev.status, 403);
    const trace = ev.trace ?? [];
    assert.ok(
      trace.some((t) => t.check.includes('role "admin"') && !t.pass),
      JSON.stringify(trace),
    );
    assert.equal(trace[trace.length - 1]?.check, 'decision');
  } finally {
    await gh.close();
    await up.close();
  }
});
