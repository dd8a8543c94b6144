import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { createPki, type TestPki } from '../helpers/certs.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { startUpstream } from '../helpers/upstream.js';

// TLS listeners go through the fast lane too: the lane terminates TLS, serves bodiless GETs
// itself and hands a connection to Node's https machinery (bytes already read included) at the
// first request outside its subset — here a POST with a body on the same keep-alive connection.

let pki: TestPki | undefined;
after(() => pki?.cleanup());

interface Answer {
  status: number;
  body: string;
  socket: TLSSocket;
}

function call(agent: Agent, port: number, ca: string, method: string, path: string, body?: string) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        ca,
        servername: 'localhost',
        headers: { host: 'localhost' },
      },
      (res) => {
        let text = '';
        const socket = res.socket as TLSSocket;
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, socket }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('TLS listener: fast GETs, then a POST handed over to Node on the same connection, then more GETs', async () => {
  pki = createPki();
  const ca = pki.createCa('lane-ca');
  const leaf = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] });
  const up = await startUpstream();
  const gh = await startGatehouse({
    server: {
      listeners: [{ address: '127.0.0.1', port: 0, tls: { cert: leaf.certPath, key: leaf.keyPath } }],
    },
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const a = await call(agent, gh.port, ca.cert, 'GET', '/one');
    const b = await call(agent, gh.port, ca.cert, 'POST', '/form', 'x=1&y=2');
    const c = await call(agent, gh.port, ca.cert, 'GET', '/three');
    assert.deepEqual([a.status, b.status, c.status], [200, 200, 200]);
    assert.equal(a.socket, c.socket, 'one keep-alive connection throughout');
    const seen = up.received.map((r) => `${r.method} ${r.url} ${r.body?.toString() ?? ''}`.trim());
    assert.deepEqual(seen, ['GET /one', 'POST /form x=1&y=2', 'GET /three']);
    assert.equal(
      up.received[0]?.headers['x-forwarded-proto'],
      'https',
      'the scheme is https on the fast path',
    );
  } finally {
    agent.destroy();
    await gh.close();
    await up.close();
  }
});
