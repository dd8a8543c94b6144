import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { SsoFixture } from '../oidc/fixture.js';
import { TestBrowser } from '../oidc/browser-client.js';
import {
  api,
  ADMIN_HEADERS,
  signInToConsole,
  startAdminFixture,
  waitFor,
  type HostBrowser,
} from './helpers.js';

interface Decision {
  id: string;
  route: string | null;
  principal: { kind: string; name: string | null };
  decision: string;
  reason: string | null;
  error: string | null;
  reasons: string[];
  status: number;
  gateway_ms: number;
  upstream_ms: number | null;
}

/** Reads SSE `decision` events from the stream until `want` returns true for one. */
async function streamUntil(
  url: string,
  cookie: string,
  want: (d: Decision) => boolean,
  whileOpen: () => Promise<void>,
): Promise<Decision> {
  const ac = new AbortController();
  const res = await request(url, { headers: { cookie, accept: 'text/event-stream' }, signal: ac.signal });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/event-stream/);
  let buf = '';
  let sent = false;
  try {
    for await (const chunk of res.body) {
      buf += (chunk as Buffer).toString();
      if (!sent) {
        sent = true;
        await whileOpen();
      }
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const data = /^event: decision\ndata: (.*)$/m.exec(frame);
        if (data) {
          const d = JSON.parse(data[1] as string) as Decision;
          if (want(d)) return d;
        }
      }
    }
  } finally {
    ac.abort();
  }
  throw new Error('stream ended');
}

describe('admin API: decisions, live stream, explain, analytics', { timeout: 120_000 }, () => {
  let f: SsoFixture & { adminUrl: string };
  let alice: HostBrowser;
  let bobDenied: string;

  before(async () => {
    f = await startAdminFixture();
    alice = await signInToConsole(f.adminUrl, 'alice', 'alice-dev-password');
    // bob is signed in but not in "admins": the proxy's /admin route refuses him.
    const bob = new TestBrowser();
    await bob.login(`${f.url}/`, 'bob', 'bob-dev-password');
    const denied = await bob.send(`${f.url}/admin/x`, { headers: { accept: 'application/json' } });
    assert.equal(denied.status, 403);
    bobDenied = denied.headers.get('x-request-id') as string;
    for (let i = 0; i < 5; i++) await request(`${f.url}/public/p${i}`).then((r) => r.body.dump());
  });
  after(async () => {
    await f?.close();
  });

  it('lists recent decisions newest first, with principal, reason and latency split', async () => {
    const r = await api(alice, `${f.adminUrl}/api/decisions?limit=50`);
    assert.equal(r.status, 200);
    const items = r.json.items as Decision[];
    const d = items.find((x) => x.id === bobDenied);
    assert.ok(d, 'the refused request is listed');
    assert.equal(d.route, 'admin');
    assert.deepEqual(d.principal, { kind: 'user', name: 'bob@contoso.example' });
    assert.equal(d.decision, 'deny');
    assert.equal(d.status, 403);
    assert.equal(d.reason, 'group.missing:admins', 'the most specific rule reason');
    assert.equal(d.error, 'GH_ACCESS_DENIED');
    assert.ok(d.reasons.includes('group.missing:admins'), d.reasons.join());
    assert.equal(d.upstream_ms, null, 'never forwarded');
    assert.ok(d.gateway_ms >= 0, 'd.gateway_ms >= 0');
    const pub = items.filter((x) => x.route === 'public');
    assert.equal(pub.length, 5);
    assert.ok(
      pub.every((x) => x.decision === 'allow' && typeof x.upstream_ms === 'number'),
      "pub.every((x) => x.decision === 'allow' && typeof x.upstream_ms === 'number')",
    );
    assert.ok(
      items.every((x) => x.route !== '(admin console)'),
      'console requests are not in the feed',
    );
  });

  it('filters by decision, user, route, reason and status', async () => {
    const q = async (s: string) =>
      ((await api(alice, `${f.adminUrl}/api/decisions?${s}`)).json.items as Decision[]).map((d) => d.id);
    assert.deepEqual(await q('decision=deny&route=admin'), [bobDenied]);
    assert.ok((await q('user=bob')).includes(bobDenied), "(await q('user=bob')).includes(bobDenied)");
    assert.ok(!(await q('user=alice')).includes(bobDenied), "!(await q('user=alice')).includes(bobDenied)");
    assert.deepEqual(await q('reason=GH_ACCESS_DENIED'), [bobDenied]);
    assert.deepEqual(await q('reason=group.missing:admins'), [bobDenied]);
    assert.deepEqual(await q('status=4xx&route=admin'), [bobDenied]);
    assert.equal((await q('status=2xx&route=public')).length, 5);
    assert.equal((await q('route=public&limit=2')).length, 2);
  });

  it('the live stream pushes a refused request with its reason, filtered', async () => {
    const cookie = alice.cookieHeader(f.adminUrl) as string;
    let id = '';
    const d = await streamUntil(
      `${f.adminUrl}/api/decisions/stream?decision=deny`,
      cookie,
      (x) => x.id === id,
      async () => {
        await request(`${f.url}/public/allowed`).then((r) => r.body.dump());
        const r = await request(`${f.url}/api/data`, { headers: { accept: 'application/json' } });
        await r.body.dump();
        assert.equal(r.statusCode, 401);
        id = String(r.headers['x-request-id']);
      },
    );
    assert.equal(d.decision, 'deny');
    assert.equal(d.status, 401);
    assert.equal(d.reason, 'GH_UNAUTHENTICATED');
    assert.equal(d.error, 'GH_UNAUTHENTICATED');
    assert.deepEqual(d.principal, { kind: 'anonymous', name: null });
  });

  it('explains a request by id like explain --request-id --json, with claims but no secrets', async () => {
    const r = await api(alice, `${f.adminUrl}/api/explain/${bobDenied}`);
    assert.equal(r.status, 200);
    const rep = r.json as {
      request_id: string;
      route: { name: string; in_config: boolean };
      credential: { subject: string; kind: string };
      decision: { decision: string; status: number; error: string };
      claims: Record<string, unknown>;
      checks: unknown[];
    };
    assert.equal(rep.request_id, bobDenied);
    assert.equal(rep.route.name, 'admin');
    assert.equal(rep.route.in_config, true);
    assert.equal(rep.credential.subject, 'bob');
    assert.equal(rep.decision.decision, 'deny');
    assert.equal(rep.decision.status, 403);
    assert.equal(rep.decision.error, 'GH_ACCESS_DENIED');
    assert.ok(rep.checks.length > 0, 'rep.checks.length > 0');
    assert.equal(rep.claims.email, 'bob@contoso.example');
    for (const [k, v] of Object.entries(rep.claims))
      if (/sid|nonce|hash|jti/i.test(k)) assert.equal(v, '[hidden]', k);
    const missing = await api(alice, `${f.adminUrl}/api/explain/no-such-request`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error, 'GH_ADMIN_NOT_FOUND');
  });

  it('analytics count requests per step and route with latency percentiles and top deny reasons', async () => {
    const r = await api(alice, `${f.adminUrl}/api/analytics?window=15m`);
    assert.equal(r.status, 200);
    const a = r.json as {
      step_s: number;
      series: { requests: number; allowed: number; denied: number; gateway_p50: number | null }[];
      top_deny_reasons: { reason: string; count: number }[];
      top_denied_principals: { name: string; count: number }[];
      routes: { route: string; requests: number; denied: number; p95: number | null }[];
    };
    assert.equal(a.step_s, 10);
    assert.equal(a.series.length, 90);
    const total = a.series.reduce((n, p) => n + p.requests, 0);
    const feed = (await api(alice, `${f.adminUrl}/api/decisions?limit=1000`)).json.items as Decision[];
    assert.equal(total, feed.length, 'every recorded request is counted once');
    assert.equal(
      a.series.reduce((n, p) => n + p.denied, 0),
      feed.filter((d) => d.decision !== 'allow').length,
    );
    assert.ok(
      a.series.some((p) => p.requests > 0 && p.gateway_p50 !== null),
      'a.series.some((p) => p.requests > 0 && p.gateway_p50 !== null)',
    );
    const pub = a.routes.find((x) => x.route === 'public');
    assert.ok(
      pub && pub.requests >= 6 && pub.denied === 0 && pub.p95 !== null,
      'pub && pub.requests >= 6 && pub.denied === 0 && pub.p95 !== null',
    );
    assert.ok(
      a.top_deny_reasons.some((x) => x.reason === 'group.missing:admins' && x.count >= 1),
      "a.top_deny_reasons.some((x) => x.reason === 'group.missing:admins' && x.count >= 1)",
    );
    assert.ok(
      a.top_denied_principals.some((x) => x.name === 'bob@contoso.example'),
      "a.top_denied_principals.some((x) => x.name === 'bob@contoso.example')",
    );
    const one = await api(alice, `${f.adminUrl}/api/analytics?window=1h&route=public`);
    const s = one.json.series as { requests: number; denied: number }[];
    assert.equal(
      s.reduce((n, p) => n + p.requests, 0),
      pub.requests,
    );
    const bob = await api(alice, `${f.adminUrl}/api/analytics?window=15m&principal=bob`);
    const bs = bob.json.series as { requests: number; denied: number }[];
    assert.ok(bs.reduce((n, p) => n + p.denied, 0) >= 1, 'bob was refused');
    assert.equal(
      bs.reduce((n, p) => n + p.requests, 0),
      feed.filter((d) => d.principal.name === 'bob@contoso.example').length,
      'only his requests',
    );
    const bad = await api(alice, `${f.adminUrl}/api/analytics?window=30d`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'GH_ADMIN_BAD_REQUEST');
  });

  it('health lists the provider keys, upstreams, audit sinks and the config version', async () => {
    const r = await api(alice, `${f.adminUrl}/api/health`);
    assert.equal(r.status, 200);
    const h = r.json as {
      providers: { name: string; jwks_age_s: number | null; stale: boolean; last_error: string | null }[];
      config: { version: string; last_reload: unknown };
      redis: unknown;
      upstreams: { name: string; targets: { url: string; healthy: boolean | null }[] }[];
    };
    assert.deepEqual(
      h.upstreams.find((u) => u.name === 'app')?.targets.map((t) => [t.url, t.healthy]),
      [[f.upstream.url, null]],
      'single-URL upstream, health unknown',
    );
    const dev = h.providers.find((p) => p.name === 'dev');
    assert.ok(
      dev && dev.jwks_age_s !== null && dev.jwks_age_s >= 0 && dev.stale === false,
      'dev && dev.jwks_age_s !== null && dev.jwks_age_s >= 0 && dev.stale === false',
    );
    assert.match(h.config.version, /^[0-9a-f]{12}$/);
    assert.equal(h.config.last_reload, null);
    assert.equal(h.redis, null, 'memory store');
    const c = (
      r.json as { console: { decisions: number; decisions_capacity: number; decisions_bytes: number } }
    ).console;
    assert.equal(c.decisions_capacity, 10_000);
    assert.ok(c.decisions > 0 && c.decisions <= 10_000, 'c.decisions > 0 && c.decisions <= 10_000');
    assert.equal(c.decisions_bytes, 530 * 10_000, 'the documented 530 bytes per decision');
  });

  it('health reports the outcome of the last reload', async () => {
    const cfg = f.gw.gateway.state.config;
    const broken = {
      ...cfg,
      routes: [
        ...cfg.routes,
        { ...(cfg.routes[0] as (typeof cfg.routes)[0]), name: 'broken', upstream: 'nowhere' },
      ],
    };
    await assert.rejects(f.gw.gateway.reload(broken));
    const failed = (await api(alice, `${f.adminUrl}/api/health`)).json.config as {
      version: string;
      last_reload: { ok: boolean; error?: string };
    };
    assert.equal(failed.last_reload.ok, false);
    assert.match(String(failed.last_reload.error), /nowhere/);
    await f.gw.gateway.reload(cfg);
    const ok = (await api(alice, `${f.adminUrl}/api/health`)).json.config as typeof failed;
    assert.equal(ok.last_reload.ok, true);
    assert.equal(ok.version, failed.version, 'same config, same version');
  });

  it('admin actions are audited with the admin identity, action and target', async () => {
    const r = await api(alice, `${f.adminUrl}/api/sessions?user=carol`, {
      method: 'DELETE',
      headers: ADMIN_HEADERS,
    });
    assert.equal(r.status, 200);
    const ev = await waitFor(() =>
      f.gw.audit.find((e) => e.type === 'admin.action' && e.action === 'session.revoke_all'),
    );
    assert.equal(ev.subject, 'alice');
    assert.equal(ev.admin, 'alice@contoso.example');
    assert.equal(ev.target, 'user:carol');
    assert.equal(ev.request_id, r.headers['x-request-id']);
  });
});
