// Negotiate to the upstream (issue 17 item 3) at the level of the Kerberos delegate, with real
// delegated tickets from a Samba KDC and a plain Node server standing in for IIS that records
// what arrives: a fresh SPNEGO token on the first request of every new connection only, the
// client's Authorization never forwarded, connections pinned to one user, a server token that
// does not verify refused (mutual authentication), a 401 Negotiate never relayed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { startAdDomain, IIS_SPN, type AdDomain } from '../helpers/ad-domain.js';
import { kerberosAssembly, type KerberosAssembly } from '../../src/kerberos/assemble.js';
import { createUpstream, type UpstreamHandle } from '../../src/upstream/pool.js';
import { upstreamSchema } from '../../src/upstream/schema.js';
import type { GatehouseError } from '../../src/errors/index.js';
import type { RequestContext } from '../../src/pipeline/context.js';

interface Seen {
  path: string;
  port: number;
  authorization: string | undefined;
}

let ad: AdDomain;
let server: Server;
let krb: KerberosAssembly;
let upstream: UpstreamHandle;
const seen: Seen[] = [];

before(async () => {
  ad = await startAdDomain();
  server = createServer((req, res) => {
    seen.push({
      path: req.url ?? '',
      port: req.socket.remotePort ?? 0,
      authorization: req.headers.authorization,
    });
    if (req.url === '/reject') {
      res.writeHead(401, { 'www-authenticate': 'Negotiate', 'content-type': 'text/plain' });
      return res.end('secret 401 page');
    }
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    if (req.url === '/mutual-bad' && req.headers.authorization)
      headers['www-authenticate'] = 'Negotiate AAAAAAAA';
    res.writeHead(200, headers);
    res.end(`hello ${req.url}`);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cfg = upstreamSchema.parse({
    url,
    auth: {
      kerberos: {
        service_principal: ad.gatewayPrincipal,
        keytab: ad.gatewayKeytab,
        spn: IIS_SPN,
        krb5_conf: ad.krb5Conf,
        user: '{sub}',
      },
    },
  });
  const issues: string[] = [];
  const issue = (p: string, m: string) => issues.push(`${p}: ${m}`);
  krb = kerberosAssembly('/', new Set(), pino({ level: 'silent' }), issue, false);
  upstream = krb.wrap(
    createUpstream('payroll', cfg, '/', issue, 'upstreams.payroll'),
    cfg,
    'upstreams.payroll',
  );
  assert.deepEqual(issues, []);
  await krb.start();
});

after(async () => {
  await upstream?.destroy();
  await krb?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await ad?.close();
});

/** One request as `user` (a signed-in principal with that subject), with a forged Authorization. */
function get(
  user: string | undefined,
  path: string,
): Promise<{ status: number; body: string; error?: string }> {
  const principal =
    user === undefined
      ? undefined
      : {
          kind: 'user',
          subject: user,
          provider: 'p',
          method: 'session',
          groups: [],
          roles: [],
          scopes: [],
          claims: {},
        };
  const ctx = { principal } as unknown as RequestContext;
  return new Promise((resolve) => {
    let status = 0;
    let body = '';
    const delegate = upstream.delegate;
    assert.ok(delegate, 'the upstream sends through the Kerberos delegate');
    delegate.request(
      ctx,
      {
        method: 'GET',
        path,
        headers: ['Host', 'iis.corp.test', 'Authorization', 'Bearer forged'],
        body: null,
      },
      {
        onHeaders: (s) => {
          status = s;
        },
        onData: (c) => {
          body += c.toString();
          return true;
        },
        onComplete: () => resolve({ status, body }),
        onError: (e) =>
          resolve({ status: (e as GatehouseError).status, body, error: (e as GatehouseError).code }),
      },
    );
  });
}

test('a fresh SPNEGO token on the first request of a new connection only; the client Authorization never', async () => {
  const a1 = await get('alice', '/a1');
  const a2 = await get('alice', '/a2');
  assert.deepEqual([a1.status, a2.status], [200, 200]);
  const [s1, s2] = [seen.find((s) => s.path === '/a1'), seen.find((s) => s.path === '/a2')];
  assert.match(s1?.authorization ?? '', /^Negotiate [A-Za-z0-9+/]+=*$/);
  const token = Buffer.from((s1?.authorization ?? '').slice(10), 'base64');
  assert.equal(token[0], 0x60, 'a GSS-API initial context token (SPNEGO)');
  assert.ok(token.length > 500, 'it carries the Kerberos AP-REQ');
  assert.equal(s2?.port, s1?.port, 'the connection is kept');
  assert.equal(s2?.authorization, undefined, 'no token on a connection already authenticated');
  assert.ok(!seen.some((s) => s.authorization?.startsWith('Bearer')), 'the client Authorization is stripped');
});

test('concurrent users: every connection carries the requests of the user who authenticated it', async () => {
  const users = ['alice', 'bob', 'carol'];
  const jobs: Array<Promise<unknown>> = [];
  for (let i = 0; i < 10; i++) for (const u of users) jobs.push(get(u, `/pin/${u}/${i}`));
  const results = (await Promise.all(jobs)) as Array<{ status: number }>;
  assert.ok(
    results.every((r) => r.status === 200),
    'results.every((r) => r.status === 200)',
  );
  const owner = new Map<number, string>();
  for (const s of seen.filter((x) => x.path.startsWith('/pin/') || /^\/a\d$/.test(x.path))) {
    const user = s.path.startsWith('/pin/') ? (s.path.split('/')[2] as string) : 'alice';
    if (s.authorization !== undefined) {
      assert.equal(owner.has(s.port), false, 'one token per connection');
      owner.set(s.port, user);
    }
    assert.equal(owner.get(s.port), user, `request ${s.path} on a connection of ${owner.get(s.port)}`);
  }
  assert.ok(new Set(owner.values()).size === 3, 'each user has her own connections');
  assert.ok(upstream.delegate !== undefined, 'upstream.delegate !== undefined');
});

test('a server token that does not verify fails the request with 502 GH_KERBEROS_MUTUAL_AUTH_FAILED, nothing relayed', async () => {
  const r = await get('carol', '/warm'); // carol has connections already
  assert.equal(r.status, 200);
  // A new user: her first request is on a new connection and carries a token.
  await ad.addUser('mallory');
  const bad = await get('mallory', '/mutual-bad');
  assert.equal(bad.error, 'GH_KERBEROS_MUTUAL_AUTH_FAILED');
  assert.equal(bad.status, 502);
  assert.equal(bad.body, '', 'the response was not relayed');
});

test('a 401 Negotiate from the upstream is 502 GH_KERBEROS_UPSTREAM_REJECTED and never relayed', async () => {
  const r = await get('alice', '/reject');
  assert.equal(r.error, 'GH_KERBEROS_UPSTREAM_REJECTED');
  assert.equal(r.status, 502);
  assert.doesNotMatch(r.body, /secret/);
  assert.equal(
    (await get('alice', '/after-reject')).status,
    200,
    'alice gets a new authenticated connection',
  );
  const rejected = seen.find((s) => s.path === '/reject');
  const after = seen.find((s) => s.path === '/after-reject');
  assert.notEqual(after?.port, rejected?.port, 'the rejected connection was closed, never reused');
});

test('no signed-in user: 403 GH_KERBEROS_UNMAPPED and nothing reaches the upstream', async () => {
  const before = seen.length;
  const r = await get(undefined, '/anonymous');
  assert.equal(r.error, 'GH_KERBEROS_UNMAPPED');
  assert.equal(r.status, 403);
  assert.equal(seen.length, before);
});

test('a reloaded config with the same settings keeps the tickets: alice is served through a KDC outage', async () => {
  assert.equal((await get('alice', '/before-reload')).status, 200);
  const cfg = upstreamSchema.parse({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    auth: {
      kerberos: {
        service_principal: ad.gatewayPrincipal,
        keytab: ad.gatewayKeytab,
        spn: IIS_SPN,
        krb5_conf: ad.krb5Conf,
        user: '{sub}',
      },
    },
  });
  const issue = (p: string, m: string) => assert.fail(`${p}: ${m}`);
  const next = kerberosAssembly('/', new Set(), pino({ level: 'silent' }), issue, false);
  const nextUpstream = next.wrap(
    createUpstream('payroll', cfg, '/', issue, 'upstreams.payroll'),
    cfg,
    'upstreams.payroll',
  );
  await next.start();
  const old = { krb, upstream };
  [krb, upstream] = [next, nextUpstream];
  await old.upstream.close();
  await old.krb.close();
  await ad.stopKdc();
  try {
    const r = await get('alice', '/after-reload');
    assert.equal(r.status, 200, r.error);
    assert.match(
      seen.find((s) => s.path === '/after-reload')?.authorization ?? '',
      /^Negotiate /,
      'a new connection, a token from the kept ticket',
    );
    const cold = await get('frankie', '/cold');
    assert.equal(cold.error, 'GH_KERBEROS_KDC_UNAVAILABLE');
  } finally {
    await ad.startKdc();
  }
});
