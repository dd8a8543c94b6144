import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createPki, type TestPki, type TestCa } from '../helpers/certs.js';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { startConnectProxy, type ConnectProxy } from '../helpers/connect-proxy.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { OidcClient } from '../../src/oidc/client.js';
import { Outbound } from '../../src/net/outbound.js';

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];

/** Runs `fn` with exactly these proxy variables in process.env (read by Gatehouse at load). */
async function withProxyEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = PROXY_VARS.map((k) => [k, process.env[k]] as const);
  for (const k of PROXY_VARS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const get = (url: string, token: string) =>
  fetch(url, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
    status: r.status,
    body: await r.text(),
  }));

describe('outbound proxy for identity-provider calls (real CONNECT proxy on loopback)', () => {
  let pki: TestPki;
  let ca: TestCa;
  /** https IdP whose host name only the proxy can resolve: reachable through the proxy alone. */
  let hidden: IdpServer;
  /** https IdP on 127.0.0.1 (reachable directly). */
  let local: IdpServer;
  let proxy: ConnectProxy;
  let upstream: RecordingUpstream;
  const gateways: TestGateway[] = [];

  const gatehouse = async (providers: Record<string, unknown>, vars: Record<string, string>) => {
    const gh = await withProxyEnv(vars, () =>
      startGatehouse({
        upstreams: { app: { url: upstream.url } },
        providers,
        routes: [{ match: { path: '/' }, upstream: 'app', auth: 'bearer', allow: 'authenticated' }],
      }),
    );
    gateways.push(gh);
    return gh;
  };

  before(async () => {
    pki = createPki();
    ca = pki.createCa('corp-root');
    const leaf = ca.issue({ cn: 'idp', san: ['DNS:idp.corp.test', 'DNS:localhost', 'IP:127.0.0.1'] });
    hidden = await startIdp({ tls: { cert: leaf.cert, key: leaf.key }, host: 'idp.corp.test' });
    local = await startIdp({ tls: { cert: leaf.cert, key: leaf.key } });
    proxy = await startConnectProxy({ hosts: { 'idp.corp.test': '127.0.0.1' } });
    upstream = await startUpstream();
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await proxy.close();
    await hidden.close();
    await local.close();
    await upstream.close();
    pki.cleanup();
  });

  it('HTTPS_PROXY: discovery and JWKS go through a CONNECT tunnel; bearer tokens verify', async () => {
    const before = proxy.connects.length;
    const gh = await gatehouse(
      { corp: { issuer: hidden.issuer, audiences: [hidden.audience], ca: ca.certPath } },
      { HTTPS_PROXY: proxy.url },
    );
    const tunnels = proxy.connects.slice(before);
    assert.ok(tunnels.includes(`idp.corp.test:${hidden.port}`), JSON.stringify(tunnels));
    assert.ok(
      hidden.counts.discovery >= 1 && hidden.counts.jwks >= 1,
      'hidden.counts.discovery >= 1 && hidden.counts.jwks >= 1',
    );
    const ok = await get(`${gh.url}/x`, await hidden.token());
    assert.equal(ok.status, 200, ok.body);
    const bad = await get(`${gh.url}/x`, await hidden.token({ aud: 'someone-else' }));
    assert.equal(bad.status, 401);
    const line = gh.logs.find((l) => l.provider === 'corp' && typeof l.outbound === 'string');
    assert.match(String(line?.outbound), /^environment \(https via http:\/\/127\.0\.0\.1:\d+/);
  });

  it('proxy credentials are sent as Proxy-Authorization and never logged', async () => {
    const authProxy = await startConnectProxy({
      credentials: 'svc-gatehouse:s3cr3t-pw',
      hosts: { 'idp.corp.test': '127.0.0.1' },
    });
    try {
      const gh = await gatehouse(
        {
          corp: {
            issuer: hidden.issuer,
            audiences: [hidden.audience],
            ca: ca.certPath,
            proxy: `http://svc-gatehouse:s3cr3t-pw@127.0.0.1:${authProxy.port}`,
          },
        },
        {},
      );
      assert.ok(
        authProxy.connects.includes(`idp.corp.test:${hidden.port}`),
        'authProxy.connects.includes(`idp.corp.test:${hidden.port}`)',
      );
      assert.ok(
        authProxy.authorizations.every(
          (a) => a === `Basic ${Buffer.from('svc-gatehouse:s3cr3t-pw').toString('base64')}`,
        ),
        "authProxy.authorizations.every((a) => a === `Basic ${Buffer.from('svc-gatehouse:s3cr3t-pw').toString('base64')}`)",
      );
      assert.equal((await get(`${gh.url}/x`, await hidden.token())).status, 200);
      const logged = JSON.stringify(gh.logs);
      assert.ok(!logged.includes('s3cr3t-pw'), 'password absent from every log line');
      assert.match(logged, /proxy http:\/\/\*\*\*@127\.0\.0\.1:/);
    } finally {
      await authProxy.close();
    }
  });

  it('NO_PROXY: a listed host is reached directly', async () => {
    const before = proxy.connects.length;
    const gh = await gatehouse(
      { local: { issuer: local.issuer, audiences: [local.audience], ca: ca.certPath } },
      { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.org,127.0.0.1' },
    );
    assert.deepEqual(proxy.connects.slice(before), [], 'no CONNECT for a NO_PROXY host');
    assert.equal((await get(`${gh.url}/x`, await local.token())).status, 200);
  });

  it('an explicit `proxy:` overrides the environment, and `proxy: none` goes direct', async () => {
    const before = proxy.connects.length;
    // The environment names a proxy that does not exist; the provider's own setting wins.
    const env = { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: 'idp.corp.test' };
    const gh = await gatehouse(
      {
        corp: { issuer: hidden.issuer, audiences: [hidden.audience], ca: ca.certPath, proxy: proxy.url },
        local: { issuer: local.issuer, audiences: [local.audience], ca: ca.certPath, proxy: 'none' },
      },
      env,
    );
    const tunnels = proxy.connects.slice(before);
    assert.ok(tunnels.length >= 1, 'the provider with `proxy:` used it although NO_PROXY lists its host');
    assert.ok(
      tunnels.every((t) => t === `idp.corp.test:${hidden.port}`),
      `only the proxied provider tunnels: ${tunnels.join(', ')}`,
    );
    assert.equal((await get(`${gh.url}/x`, await hidden.token())).status, 200);
    assert.equal((await get(`${gh.url}/x`, await local.token())).status, 200);
  });

  it('HTTP_PROXY alone: a plain-http IdP is asked in absolute form, an https one through CONNECT', async () => {
    const plainIdp = await startIdp({ host: 'dev-idp.corp.test' });
    const p3 = await startConnectProxy({
      hosts: { 'dev-idp.corp.test': '127.0.0.1', 'idp.corp.test': '127.0.0.1' },
    });
    try {
      const gh = await gatehouse(
        {
          dev: { issuer: plainIdp.issuer, audiences: [plainIdp.audience] },
          corp: { issuer: hidden.issuer, audiences: [hidden.audience], ca: ca.certPath },
        },
        { HTTP_PROXY: p3.url },
      );
      assert.ok(
        p3.forwards.includes(`http://dev-idp.corp.test:${plainIdp.port}/.well-known/openid-configuration`),
        JSON.stringify(p3.forwards),
      );
      assert.ok(
        p3.forwards.includes(`http://dev-idp.corp.test:${plainIdp.port}/jwks`),
        'p3.forwards.includes(`http://dev-idp.corp.test:${plainIdp.port}/jwks`)',
      );
      assert.ok(
        !p3.connects.includes(`dev-idp.corp.test:${plainIdp.port}`),
        'no CONNECT to port of a plain-http IdP',
      );
      assert.ok(p3.connects.includes(`idp.corp.test:${hidden.port}`), 'https falls back to HTTP_PROXY');
      assert.equal((await get(`${gh.url}/x`, await plainIdp.token())).status, 200);
      assert.equal((await get(`${gh.url}/x`, await hidden.token())).status, 200);
    } finally {
      await p3.close();
      await plainIdp.close();
    }
  });

  it('the token endpoint client (openid-client customFetch) goes through the proxy too', async () => {
    const out = new Outbound({ proxy: proxy.url, ca: ca.cert, timeoutMs: 3000 });
    const client = new OidcClient(
      {
        provider: 'corp',
        issuer: hidden.issuer,
        clientId: 'gatehouse',
        clientSecret: 'secret',
        authMethod: 'client_secret_basic',
        allowHttp: false,
        timeoutSeconds: 3,
        fetch: out.fetch,
      },
      pino({ level: 'silent' }),
    );
    try {
      const before = hidden.counts.discovery;
      const cfg = await client.config();
      assert.equal(cfg.serverMetadata().issuer, hidden.issuer);
      assert.equal(hidden.counts.discovery, before + 1);
      // The fake IdP has no /token: a 404 from it (not ENOTFOUND) proves the call reached it.
      await assert.rejects(
        client.refresh('rt-1'),
        (e: Error) => !/ENOTFOUND|getaddrinfo/.test(String(e.message)),
      );
    } finally {
      client.close();
      await out.close();
    }
  });

  it('proxy down: calls fail closed with 503 GH_IDP_UNAVAILABLE, never allowed', async () => {
    const p2 = await startConnectProxy({ hosts: { 'idp.corp.test': '127.0.0.1' } });
    const gh = await gatehouse(
      {
        opaque: {
          issuer: hidden.issuer,
          audiences: [hidden.audience],
          ca: ca.certPath,
          proxy: p2.url,
          token_type: 'opaque',
          introspection: { client_id: 'gatehouse', client_secret: 'introspection-secret', cache_ttl: '1ms' },
        },
      },
      {},
    );
    const exp = Math.floor(Date.now() / 1000) + 3600;
    hidden.setOpaque('opaque-via-proxy', { active: true, sub: 'alice', aud: hidden.audience, exp });
    hidden.setOpaque('opaque-after-outage', { active: true, sub: 'bob', aud: hidden.audience, exp });
    assert.equal((await get(`${gh.url}/x`, 'opaque-via-proxy')).status, 200);
    assert.ok(
      p2.connects.includes(`idp.corp.test:${hidden.port}`),
      'p2.connects.includes(`idp.corp.test:${hidden.port}`)',
    );
    await p2.close();
    const down = await get(`${gh.url}/x`, 'opaque-after-outage');
    assert.equal(down.status, 503, down.body);
    assert.equal(JSON.parse(down.body).error, 'GH_IDP_UNAVAILABLE');
    assert.ok(
      !upstream.received.some((r) => r.headers.authorization === 'Bearer opaque-after-outage'),
      "!upstream.received.some((r) => r.headers.authorization === 'Bearer opaque-after-outage')",
    );
  });

  it('a private CA is required: without `ca` the TLS error is reported; with it the call works', async () => {
    const opaque = (caPath?: string) => ({
      issuer: local.issuer,
      audiences: [local.audience],
      proxy: proxy.url,
      token_type: 'opaque',
      ...(caPath ? { ca: caPath } : {}),
      introspection: { client_id: 'gatehouse', client_secret: 'introspection-secret' },
    });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    local.setOpaque('opaque-ca', { active: true, sub: 'carol', aud: local.audience, exp });
    const without = await gatehouse({ p: opaque() }, {});
    const r1 = await get(`${without.url}/x`, 'opaque-ca');
    assert.equal(r1.status, 503, r1.body);
    const detail = JSON.stringify(without.audit.at(-1));
    assert.match(
      detail,
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|certificate/i,
    );
    assert.match(detail, /outbound: proxy http:\/\/127\.0\.0\.1:/);
    const withCa = await gatehouse({ p: opaque(ca.certPath) }, {});
    assert.equal((await get(`${withCa.url}/x`, 'opaque-ca')).status, 200);
  });

  it('config errors name the key: unreadable ca, malformed proxy, malformed HTTPS_PROXY', async () => {
    const base = { issuer: local.issuer, audiences: [local.audience] };
    await assert.rejects(
      gatehouse({ p: { ...base, ca: '/nonexistent/ca.pem' } }, {}),
      /providers\.p\.ca: cannot read/,
    );
    await assert.rejects(
      gatehouse({ p: { ...base, proxy: 'socks5://x:1' } }, {}),
      /providers\.p\.proxy: expected an http/,
    );
    await assert.rejects(
      gatehouse({ p: base }, { HTTPS_PROXY: 'http://proxy.example/path' }),
      /providers\.p\.proxy: HTTPS_PROXY in the environment: a proxy URL has no path/,
    );
  });
});
