import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, buildRequestEvent } from '../../src/audit/log.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { GatehouseError } from '../../src/errors/index.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { Principal } from '../../src/pipeline/principal.js';
import type { CompiledRoute } from '../../src/pipeline/route.js';

const TOKEN =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImF1ZCI6ImFwaSJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';

function event(i: number, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: new Date().toISOString(),
    type: 'request',
    request_id: `r${i}`,
    decision: 'allow',
    reasons: ['rule.allow'],
    status: 200,
    latency_ms: 1,
    ...extra,
  };
}

function lines(path: string): AuditEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditEvent);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'gh-audit-'));
}

describe('AuditLog sinks', () => {
  test('capture and stdout sinks get every event as one JSON line', async () => {
    const capture: AuditEvent[] = [];
    let out = '';
    const log = new AuditLog(
      { stdout: true, level: 'info' },
      { capture, stdout: { write: (s: string) => (out += s) } },
    );
    for (let i = 0; i < 50; i++) log.emit(event(i));
    await log.close();
    assert.equal(capture.length, 50);
    const parsed = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEvent);
    assert.deepEqual(
      parsed.map((e) => e.request_id),
      capture.map((e) => e.request_id),
    );
    assert.equal(log.emitted, 50);
  });

  test('the decision trace is kept at level debug only', async () => {
    const trace = [{ check: 'rule p/r (allow)', pass: true }];
    const infoCap: AuditEvent[] = [];
    const info = new AuditLog({ stdout: false, level: 'info' }, { capture: infoCap });
    info.emit(event(1, { trace }));
    const debugCap: AuditEvent[] = [];
    const debug = new AuditLog({ stdout: false, level: 'debug' }, { capture: debugCap });
    debug.emit(event(1, { trace }));
    assert.equal(infoCap[0]?.trace, undefined);
    assert.deepEqual(debugCap[0]?.trace, trace);
    assert.equal(info.debug, false);
    assert.equal(debug.debug, true);
  });

  test('the file sink appends across restarts and flushes everything on close', async () => {
    const dir = tmp();
    try {
      const file = join(dir, 'sub', 'audit.jsonl');
      const a = new AuditLog({ stdout: false, file: 'sub/audit.jsonl', level: 'info' }, { baseDir: dir });
      for (let i = 0; i < 5000; i++) a.emit(event(i));
      await a.close();
      const first = readFileSync(file, 'utf8');
      assert.equal(lines(file).length, 5000);
      const b = new AuditLog({ stdout: false, file, level: 'info' });
      for (let i = 5000; i < 5003; i++) b.emit(event(i));
      await b.close();
      const all = lines(file);
      assert.equal(all.length, 5003);
      assert.ok(readFileSync(file, 'utf8').startsWith(first), 'earlier lines untouched');
      assert.deepEqual(
        all.map((e) => e.request_id),
        Array.from({ length: 5003 }, (_, i) => `r${i}`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an existing file written by someone else is appended to, never truncated', async () => {
    const dir = tmp();
    try {
      const file = join(dir, 'audit.jsonl');
      writeFileSync(file, '{"previous":true}\n');
      const log = new AuditLog({ stdout: false, file, level: 'info' });
      log.emit(event(1));
      await log.close();
      assert.deepEqual(readFileSync(file, 'utf8').split('\n')[0], '{"previous":true}');
      assert.equal(lines(file).length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('emits from concurrent async work produce exactly one complete line each', async () => {
    const dir = tmp();
    try {
      const file = join(dir, 'audit.jsonl');
      const log = new AuditLog({ stdout: false, file, level: 'info' });
      await Promise.all(
        Array.from({ length: 400 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, i % 7));
          log.emit(event(i, { detail: 'x'.repeat(i * 13) }));
        }),
      );
      await log.close();
      const ids = lines(file).map((e) => e.request_id);
      assert.equal(ids.length, 400);
      assert.equal(new Set(ids).size, 400);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unwritable audit file fails at start, not per event', () => {
    const dir = tmp();
    try {
      writeFileSync(join(dir, 'not-a-dir'), '');
      assert.throws(
        () => new AuditLog({ stdout: false, file: join(dir, 'not-a-dir', 'audit.jsonl'), level: 'info' }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('buildRequestEvent', () => {
  const principal: Principal = {
    kind: 'user',
    subject: 'alice',
    issuer: 'https://login.example.com',
    provider: 'entra',
    method: 'jwt',
    email: 'alice@example.com',
    groups: ['eng'],
    roles: [],
    scopes: [],
    clientId: 'spa',
    tenant: 't1',
    credentialId: 'jti-123',
    claims: { raw_token_should_not_leak: TOKEN },
  };

  function ctx(over: Partial<RequestContext> = {}): RequestContext {
    return {
      id: 'req-1',
      req: { headers: { authorization: `Bearer ${TOKEN}`, cookie: `gh_session=${TOKEN}` } },
      start: performance.now() - 2.5,
      peer: '127.0.0.1',
      clientIp: '203.0.113.9',
      host: 'app.example.com',
      method: 'POST',
      path: '/orders/7',
      query: `?access_token=${TOKEN}`,
      route: { name: 'orders' } as CompiledRoute,
      principal,
      reasons: ['rule.allow'],
      rule: 'staff/eng',
      upstreamStatus: 201,
      extra: { strippedHeaders: ['x-remote-user'], trace: [{ check: 'decision', pass: true }] },
      ...over,
    } as unknown as RequestContext;
  }

  test('fills every field from the context', () => {
    const ev = buildRequestEvent(ctx(), 201);
    assert.equal(ev.type, 'request');
    assert.equal(ev.request_id, 'req-1');
    assert.equal(ev.route, 'orders');
    assert.equal(ev.method, 'POST');
    assert.equal(ev.path, '/orders/7');
    assert.equal(ev.host, 'app.example.com');
    assert.equal(ev.client_ip, '203.0.113.9');
    assert.equal(ev.provider, 'entra');
    assert.equal(ev.subject, 'alice');
    assert.equal(ev.client_id, 'spa');
    assert.equal(ev.tenant, 't1');
    assert.equal(ev.token_kind, 'user');
    assert.equal(ev.credential_id, 'jti-123');
    assert.equal(ev.decision, 'allow');
    assert.deepEqual(ev.reasons, ['rule.allow']);
    assert.equal(ev.rule, 'staff/eng');
    assert.equal(ev.status, 201);
    assert.equal(ev.upstream_status, 201);
    assert.ok(ev.latency_ms >= 2.5 && ev.latency_ms < 1000, String(ev.latency_ms));
    assert.deepEqual(ev.stripped_headers, ['x-remote-user']);
    assert.deepEqual(ev.trace, [{ check: 'decision', pass: true }]);
    assert.ok(!Number.isNaN(Date.parse(ev.time)), '!Number.isNaN(Date.parse(ev.time))');
  });

  test('denials and errors: decision, error code and merged reasons', () => {
    const denied = buildRequestEvent(
      ctx({ reasons: ['rule.default_deny'], upstreamStatus: undefined }),
      403,
      new GatehouseError('GH_ACCESS_DENIED', 'denied by p', {
        reasons: ['rule.default_deny', 'group.missing:eng'],
      }),
    );
    assert.equal(denied.decision, 'deny');
    assert.equal(denied.error, 'GH_ACCESS_DENIED');
    assert.deepEqual(denied.reasons, ['rule.default_deny', 'group.missing:eng']);
    const failed = buildRequestEvent(
      ctx({ reasons: ['rule.allow'] }),
      502,
      new GatehouseError('GH_UPSTREAM_UNAVAILABLE'),
    );
    assert.equal(failed.decision, 'error');
    const anon = buildRequestEvent(
      ctx({ principal: undefined, route: undefined, reasons: [] }),
      404,
      new GatehouseError('GH_ROUTE_NOT_FOUND'),
    );
    assert.deepEqual([anon.subject, anon.route, anon.decision], [undefined, undefined, 'deny']);
  });

  test('never carries the token, cookies or the query string', () => {
    const err = new GatehouseError('GH_UNAUTHENTICATED', `bad token ${TOKEN}`);
    const json =
      JSON.stringify(buildRequestEvent(ctx(), 401, err)) + JSON.stringify(buildRequestEvent(ctx(), 200));
    assert.ok(!json.includes(TOKEN.split('.')[1] as string), 'token payload leaked');
    assert.ok(!json.includes('gh_session'), 'cookie leaked');
    assert.ok(!json.includes('access_token'), 'query leaked');
    assert.match(json, /\[redacted-token\]/);
  });
});
