import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send, type Reply } from '../helpers/http.js';

// Issue 12 item 4: a storm of distinct random opaque tokens — none of which any cache can answer —
// must not turn Gatehouse into an amplifier against the IdP. Each provider has an outbound
// introspection budget (token bucket); over it, uncached tokens get 503 GH_IDP_THROTTLED with
// Retry-After, audited, while tokens whose answer is cached keep working.

const RATE = 2; // calls per second
const BURST = 5;
const STORM = 80;

describe('outbound introspection budget', () => {
  let idp: IdpServer;
  let up: RecordingUpstream;
  let gh: TestGateway;

  before(async () => {
    idp = await startIdp();
    up = await startUpstream();
    gh = await startGatehouse({
      upstreams: { app: { url: up.url } },
      providers: {
        as: {
          issuer: `${idp.issuer}/as`,
          discovery: false,
          token_type: 'opaque',
          audiences: [idp.audience],
          introspection: {
            endpoint: idp.introspectionUrl,
            client_id: 'gatehouse',
            client_secret: 'introspection-secret',
            budget: `${RATE}/s`,
            budget_burst: BURST,
          },
        },
      },
      routes: [
        { name: 'api', match: { path: '/api' }, upstream: 'app', auth: 'bearer', allow: 'authenticated' },
      ],
    });
  });

  after(async () => {
    await gh?.close();
    await up?.close();
    await idp?.close();
  });

  const call = (token: string): Promise<Reply> =>
    send(gh.url, '/api/orders', { headers: { authorization: `Bearer ${token}` } });
  const active = (sub: string) => ({
    active: true,
    sub,
    aud: idp.audience,
    exp: Math.floor(Date.now() / 1000) + 600,
  });

  it('a storm of distinct random tokens costs the IdP at most the budget; cached tokens keep working', async () => {
    const cached = `valid-${randomBytes(16).toString('hex')}`;
    idp.setOpaque(cached, active('alice'));
    assert.equal((await call(cached)).status, 200, 'warm-up: the valid token is introspected and cached');
    const upBefore = up.received.length;
    const auditBefore = gh.audit.length;
    const callsBefore = idp.counts.introspect;

    const started = performance.now();
    const storm = Array.from({ length: STORM }, () => call(`rnd-${randomBytes(24).toString('base64url')}`));
    const during: Promise<Reply>[] = [];
    for (let i = 0; i < 5; i++) {
      during.push(call(cached));
      await sleep(5);
    }
    const results = await Promise.all(storm);
    const cachedResults = await Promise.all(during);
    const elapsed = (performance.now() - started) / 1000;
    await new Promise((r) => setImmediate(r));

    const calls = idp.counts.introspect - callsBefore;
    const bound = BURST + Math.ceil(RATE * elapsed);
    assert.ok(
      calls <= bound,
      `${calls} introspection calls in ${elapsed.toFixed(2)}s, budget allows ${bound}`,
    );
    assert.ok(calls >= 1, 'the budget is used, not zero');

    for (const r of cachedResults) assert.equal(r.status, 200, `cached token during the storm: ${r.body}`);
    assert.equal(
      up.received.length - upBefore,
      cachedResults.length,
      'only the cached token reached the upstream',
    );

    const throttled = results.filter((r) => r.status === 503);
    const inactive = results.filter((r) => r.status === 401);
    assert.equal(throttled.length + inactive.length, STORM, results.map((r) => r.status).join(','));
    assert.equal(inactive.length, calls, 'exactly the introspected tokens were answered (inactive)');
    for (const r of throttled) {
      assert.equal(r.json().error, 'GH_IDP_THROTTLED');
      assert.ok(Number(r.headers['retry-after']) >= 1, `Retry-After ${String(r.headers['retry-after'])}`);
    }
    for (const r of inactive) assert.equal(r.json().error, 'GH_TOKEN_INVALID');

    const events = gh.audit.slice(auditBefore);
    const throttledEvents = events.filter((e) => e.error === 'GH_IDP_THROTTLED');
    assert.equal(throttledEvents.length, throttled.length, 'every refusal is audited');
    for (const e of throttledEvents) {
      assert.equal(e.status, 503);
      assert.ok(e.reasons.includes('idp.introspection_budget'), JSON.stringify(e.reasons));
    }
    const warnings = gh.logs.filter((l) => String(l.msg).startsWith('introspection budget spent'));
    assert.ok(
      warnings.length >= 1 && warnings.length <= Math.ceil(elapsed) + 1,
      `${warnings.length} warnings`,
    );
  });

  it('the budget refills: after a pause, a new valid token is introspected again', async () => {
    await sleep(1000 / RATE + 100);
    const fresh = `valid-${randomBytes(16).toString('hex')}`;
    idp.setOpaque(fresh, active('bob'));
    const before = idp.counts.introspect;
    const r = await call(fresh);
    assert.equal(r.status, 200, r.body);
    assert.equal(idp.counts.introspect, before + 1);
    assert.equal(gh.audit.at(-1)?.subject, 'bob');
  });
});
