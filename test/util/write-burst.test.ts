import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket, type Server } from 'node:net';
import { once } from 'node:events';
import { writeSoon } from '../../src/util/write-burst.js';

/** A server that collects what each connection sends; returns client sockets and the received text. */
async function pair(n: number): Promise<{ clients: Socket[]; received: string[]; server: Server }> {
  const received: string[] = [];
  const server = createServer((s) => {
    const i = received.length;
    received.push('');
    s.setEncoding('latin1');
    s.on('data', (d: string) => (received[i] += d));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const clients: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    clients.push(c);
  }
  while (received.length < n) await new Promise((r) => setImmediate(r));
  return { clients, received, server };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5));
}

test('writes queued in one turn leave together after it, each complete, in order per socket', async () => {
  const { clients, received, server } = await pair(3);
  const order: string[] = [];
  for (const [i, c] of clients.entries()) {
    writeSoon(c, `head-${i}\r\n`);
    writeSoon(c, Buffer.from(`body-${i}é`, 'latin1'), () => order.push(`done-${i}`));
  }
  assert.equal(clients[0]!.bytesWritten, 0, 'nothing is written before the turn ends');
  await new Promise((r) => setImmediate(r));
  assert.ok(
    clients.every((c) => c.bytesWritten > 0),
    'every queued write was issued in the check phase of the same turn',
  );
  await settle();
  assert.deepEqual(received.sort(), ['head-0\r\nbody-0é', 'head-1\r\nbody-1é', 'head-2\r\nbody-2é']);
  assert.deepEqual(order, ['done-0', 'done-1', 'done-2']);
  for (const c of clients) c.destroy();
  server.close();
});

test('a message queued from a done callback follows the previous one on the same socket', async () => {
  const { clients, received, server } = await pair(1);
  const c = clients[0]!;
  writeSoon(c, 'first\n', () => writeSoon(c, 'second\n', () => writeSoon(c, 'third\n')));
  await settle();
  assert.equal(received[0], 'first\nsecond\nthird\n');
  c.destroy();
  server.close();
});

test('a socket destroyed before the burst: its done callback still runs (with the error), nothing throws', async () => {
  const { clients, received, server } = await pair(2);
  const [gone, alive] = clients as [Socket, Socket];
  const errors: unknown[] = [];
  let called = 0;
  writeSoon(gone, 'lost\n', (...args: unknown[]) => {
    called++;
    errors.push(args[0]);
  });
  writeSoon(alive, 'kept\n');
  gone.destroy();
  await settle();
  assert.equal(called, 1, 'the owner of the message learns it is finished');
  assert.equal((errors[0] as NodeJS.ErrnoException | undefined)?.code, 'ERR_STREAM_DESTROYED');
  assert.ok(received.includes('kept\n'), 'the other socket of the burst got its write');
  alive.destroy();
  server.close();
});

test('a write that throws is destroyed alone: the rest of the burst and every later burst still go out', async () => {
  const { clients, received, server } = await pair(3);
  const [before, broken, after] = clients as [Socket, Socket, Socket];
  // A socket whose write throws synchronously (a stream implementation bug, a bad chunk).
  broken.write = () => {
    throw new Error('write exploded');
  };
  const errors: Error[] = [];
  broken.on('error', (e) => errors.push(e));
  const destroyed = new Promise((r) => broken.once('close', r));
  writeSoon(before, 'one\n');
  writeSoon(broken, 'never\n');
  writeSoon(after, 'two\n');
  await settle();
  await destroyed;
  assert.deepEqual(
    errors.map((e) => e.message),
    ['write exploded'],
    'the socket whose write threw is destroyed with that error',
  );
  assert.ok(received.includes('one\n') && received.includes('two\n'), JSON.stringify(received));
  writeSoon(before, 'three\n');
  await settle();
  assert.ok(received.includes('one\nthree\n'), `a later burst is flushed too: ${JSON.stringify(received)}`);
  before.destroy();
  after.destroy();
  server.close();
});
