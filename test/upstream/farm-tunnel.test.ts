import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { freePort, waitFor } from '../helpers/ports.js';

// WebSocket upgrades on a farm upstream pick their target through the same balancer and health
// state as plain requests: real upstreams answering 101 and echoing frames with their name.

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const accept = (k: string) =>
  createHash('sha1').update(`${k}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
const servers: Server[] = [];
const tunnels = new Set<Socket>();
let gh: TestGateway | undefined;

after(async () => {
  await gh?.close();
  for (const t of tunnels) t.destroy();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

async function wsUpstream(name: string, health: () => number): Promise<string> {
  const s = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? health() : 200, { 'content-length': '0' });
    res.end();
  });
  s.on('upgrade', (req, socket: Socket) => {
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
    );
    socket.on('data', (d) => socket.write(`${name}:${d.toString()}`));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** Opens a tunnel, sends `ping`, returns the head's status line and the echo. */
function upgrade(port: number, path = '/ws'): Promise<{ status: string; echo: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let pinged = false;
    s.on('data', (d) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = text.slice(0, text.indexOf('\r\n'));
      if (!status.includes(' 101 ')) {
        // A refusal: its whole text (head and JSON body) once the body is complete.
        if (!text.trimEnd().endsWith('}')) return;
        s.destroy();
        return resolve({ status, echo: text });
      }
      if (!pinged) {
        pinged = true;
        s.write('ping');
      }
      const rest = text.slice(end + 4);
      if (rest.endsWith(':ping')) {
        s.destroy();
        resolve({ status, echo: rest });
      }
    });
    s.on('error', reject);
    s.write(
      `GET ${path} HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

test('WebSocket tunnels are balanced over the farm, skip a target marked down, and get 503 when none is left', async () => {
  let bHealth = 200;
  const a = await wsUpstream('a', () => 200);
  const b = await wsUpstream('b', () => bHealth);
  const dead = `http://127.0.0.1:${await freePort()}`;
  gh = await startGatehouse({
    upstreams: {
      farm: {
        targets: [{ url: a }, { url: b }],
        health_check: { path: '/health', interval: '50ms', unhealthy_threshold: 1, healthy_threshold: 1 },
      },
      gone: {
        targets: [{ url: dead }],
        health_check: { path: '/health', interval: '50ms', unhealthy_threshold: 1 },
      },
    },
    routes: [
      { name: 'ws', match: { path: '/ws' }, upstream: 'farm', auth: 'none', websocket: true },
      { name: 'gone', match: { path: '/gone' }, upstream: 'gone', auth: 'none', websocket: true },
    ],
  });
  const port = gh.port;
  const spread = [];
  for (let i = 0; i < 4; i++) spread.push((await upgrade(port)).echo);
  assert.deepEqual(spread.sort(), ['a:ping', 'a:ping', 'b:ping', 'b:ping']);
  bHealth = 503;
  const ready = async () =>
    (await send(gh!.url, '/.gatehouse/ready')).json<{
      upstreams: Record<string, { healthy_targets: number }>;
    }>();
  await waitFor(async () => (await ready()).upstreams.farm?.healthy_targets === 1, 3000, 'b down');
  for (let i = 0; i < 4; i++) assert.equal((await upgrade(port)).echo, 'a:ping');
  await waitFor(async () => (await ready()).upstreams.gone?.healthy_targets === 0, 3000, 'gone down');
  const r = await upgrade(port, '/gone');
  assert.match(r.status, /^HTTP\/1\.1 503 /);
  assert.match(r.echo, /"error":"GH_UPSTREAM_NO_HEALTHY_TARGET"/);
  assert.match(r.echo, /\r\nretry-after: [1-9]/i);
});

test('a WebSocket tunnel whose target refuses the connection goes to another target, and the dead one is ejected', async () => {
  const a = await wsUpstream('a', () => 200);
  const dead = `http://127.0.0.1:${await freePort()}`;
  const gw = await startGatehouse({
    upstreams: {
      farm: {
        targets: [{ url: dead }, { url: a }],
        passive_health: { max_failures: 2, cool_down: '30s' },
      },
    },
    routes: [{ name: 'ws', match: { path: '/ws' }, upstream: 'farm', auth: 'none', websocket: true }],
  });
  try {
    // Round robin sends every other tunnel to the dead target first: each still reaches `a`.
    for (let i = 0; i < 4; i++) assert.equal((await upgrade(gw.port)).echo, 'a:ping', `tunnel ${i}`);
    const ready = (await send(gw.url, '/.gatehouse/ready')).json<{
      upstreams: Record<string, { healthy_targets: number; targets: Array<{ ejected?: boolean }> }>;
    }>();
    assert.equal(ready.upstreams.farm?.healthy_targets, 1, 'the refusing target was ejected');
    assert.ok(
      gw.audit.some((e) => e.reasons?.includes('upstream.retried')),
      'the retry is audited (reason upstream.retried)',
    );
  } finally {
    await gw.close();
  }
});
