import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createPki, type CertFiles } from '../helpers/certs.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { waitFor } from '../helpers/ports.js';

// https farms: every target verified with the shared tls settings (CA, server name), in the
// request pool and in the health check alike. A target whose certificate does not verify never
// serves: its handshake failure (nothing written) is retried on a good target, and its health
// check marks it down.

const pki = createPki();
const servers: Server[] = [];
let gh: TestGateway | undefined;

after(async () => {
  await gh?.close();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  pki.cleanup();
});

async function httpsUpstream(name: string, cert: CertFiles): Promise<string> {
  const s = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(name.length) });
    res.end(name);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

test('an https farm verifies every target; a target with an untrusted certificate never serves', async () => {
  const ca = pki.createCa('farm-ca');
  const rogue = pki.createCa('rogue-ca');
  const good = ca.issue({ cn: 'app.internal', san: ['DNS:app.internal'] });
  const a = await httpsUpstream('a', good);
  const b = await httpsUpstream('b', good);
  const bad = await httpsUpstream('rogue', rogue.issue({ cn: 'app.internal', san: ['DNS:app.internal'] }));
  gh = await startGatehouse({
    upstreams: {
      farm: {
        targets: [{ url: bad }, { url: a }, { url: b }],
        tls: { ca: ca.certPath, server_name: 'app.internal' },
        passive_health: { max_failures: 100 },
        health_check: { path: '/health', interval: '50ms', unhealthy_threshold: 1 },
      },
    },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'none' }],
  });
  const bodies: string[] = [];
  for (let i = 0; i < 12; i++) {
    const r = await send(gh.url, `/p${i}`);
    assert.equal(r.status, 200);
    bodies.push(r.body);
  }
  assert.ok(!bodies.includes('rogue'), 'the untrusted target never answered');
  assert.ok(bodies.includes('a') && bodies.includes('b'), "bodies.includes('a') && bodies.includes('b')");
  const ready = async () =>
    (await send(gh!.url, '/.gatehouse/ready')).json<{
      upstreams: Record<string, { targets: Array<{ target: string; healthy: boolean }> }>;
    }>();
  await waitFor(
    async () => (await ready()).upstreams.farm?.targets.find((t) => t.target === bad)?.healthy === false,
    3000,
    'the untrusted target marked down by its health check',
  );
  const states = (await ready()).upstreams.farm?.targets.map((t) => t.healthy);
  assert.deepEqual(states, [false, true, true]);
  assert.ok(
    gh.logs.some((l) => l.msg === 'upstream target failed its health check' && l.target === bad),
    'the verdict is logged',
  );
});
