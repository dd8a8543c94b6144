import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { readAsStream, readIntoShared, SHARED_READ_BUFFER } from '../../src/util/shared-read.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';

// The fast lane's plain-TCP connections read into one shared buffer (src/util/shared-read.ts):
// Node's `onread` mode, which `net` documents for sockets it creates, applied to accepted ones
// through net.Socket's own slots. If a Node release moves those slots, the first test fails
// (the lane would silently fall back to 'data' events, correct but slower). The others check
// that bytes a connection keeps past one read — a partial head, pipelined requests — survive
// the reads of other connections into the same memory.

/** A server socket accepted from a real client: [server side, client side]. */
async function pair(): Promise<[Socket, Socket, () => void]> {
  let accepted!: (s: Socket) => void;
  const got = new Promise<Socket>((r) => (accepted = r));
  const server = createServer((s) => accepted(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const s = await got;
  return [s, client, () => (s.destroy(), client.destroy(), server.close())];
}

test('on this Node, an accepted socket reads into the shared buffer: callbacks instead of data events, pause, resume and end as usual', async () => {
  const [s, client, close] = await pair();
  try {
    const seen: string[] = [];
    let dataEvents = 0;
    s.on('data', () => dataEvents++);
    assert.equal(
      readIntoShared(s, (n) => seen.push(SHARED_READ_BUFFER.toString('latin1', 0, n))),
      true,
      'readIntoShared is available on this Node',
    );
    client.write('one');
    for (let i = 0; i < 50 && seen.length === 0; i++) await sleep(10);
    assert.deepEqual(seen, ['one']);
    s.pause();
    client.write('two');
    await sleep(60);
    assert.deepEqual(seen, ['one'], 'nothing is read while paused');
    s.resume();
    for (let i = 0; i < 50 && seen.length < 2; i++) await sleep(10);
    assert.deepEqual(seen, ['one', 'two']);
    assert.equal(dataEvents, 0, "no 'data' events while reading into the shared buffer");
    const ended = new Promise<void>((r) => s.once('end', () => r()));
    client.end();
    await ended;
  } finally {
    close();
  }
});

test('readAsStream: later reads arrive as data events with buffers of their own', async () => {
  const [s, client, close] = await pair();
  try {
    readIntoShared(s, () => assert.fail('the shared callback must not run after readAsStream'));
    readAsStream(s);
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    client.write('alpha');
    for (let i = 0; i < 50 && chunks.length === 0; i++) await sleep(10);
    SHARED_READ_BUFFER.fill(0x7a, 0, 16);
    assert.equal(Buffer.concat(chunks).toString(), 'alpha', 'the chunk is a copy, not a view');
  } finally {
    close();
  }
});

let up: RecordingUpstream;
let gh: TestGateway;
before(async () => {
  up = await startUpstream();
  gh = await startGatehouse({
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
});
after(async () => {
  await gh.close();
  await up.close();
});

/** A raw client collecting everything it receives. */
async function raw(): Promise<{ write(s: string): void; text(): string; close(): void }> {
  const c = connect(gh.port, '127.0.0.1');
  await new Promise<void>((r) => c.once('connect', () => r()));
  let text = '';
  c.on('data', (d: Buffer) => (text += d.toString('latin1')));
  c.on('error', () => {});
  return { write: (s) => c.write(s), text: () => text, close: () => c.destroy() };
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: app.test\r\nX-Pad: ${'p'.repeat(200)}\r\n\r\n`;
const statuses = (t: string) => [...t.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);

async function until(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !probe(); i++) await sleep(10);
  assert.ok(probe(), what);
}

test('a head split across reads survives other connections reading into the same memory in between', async () => {
  const a = await raw();
  const b = await raw();
  try {
    const n = up.received.length;
    const head = GET('/split-a');
    a.write(head.slice(0, 90));
    await sleep(30);
    // B's whole request is read into the shared buffer over A's kept bytes' old place.
    b.write(GET('/whole-b'));
    await until(() => statuses(b.text()).length === 1, 'B answered');
    a.write(head.slice(90));
    await until(() => statuses(a.text()).length === 1, 'A answered');
    assert.deepEqual(statuses(a.text()), ['200']);
    const urls = up.received.slice(n).map((r) => r.url);
    assert.deepEqual(urls.sort(), ['/split-a', '/whole-b']);
    const got = up.received.slice(n).find((r) => r.url === '/split-a');
    assert.equal(got?.headers['x-pad'], 'p'.repeat(200), 'the kept half of the head is intact');
  } finally {
    a.close();
    b.close();
  }
});

test('pipelined requests behind the one being answered, and a third split off, all answered in order', async () => {
  const a = await raw();
  const b = await raw();
  try {
    const n = up.received.length;
    const third = GET('/p3');
    a.write(GET('/p1') + GET('/p2') + third.slice(0, 40));
    // Other traffic overwrites the shared memory while A's pipelined bytes wait.
    for (let i = 0; i < 5; i++) b.write(GET(`/other-${i}`));
    await until(() => statuses(b.text()).length === 5, 'B answered five times');
    a.write(third.slice(40));
    await until(() => statuses(a.text()).length === 3, 'A answered three times');
    const mine = up.received
      .slice(n)
      .map((r) => r.url)
      .filter((u) => u.startsWith('/p'));
    assert.deepEqual(mine, ['/p1', '/p2', '/p3']);
  } finally {
    a.close();
    b.close();
  }
});
