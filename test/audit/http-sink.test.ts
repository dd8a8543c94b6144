import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { main } from '../../src/cli/main.js';
import { Writable } from 'node:stream';

interface Post {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A local HTTP collector that can go away and come back on the same port, or answer 503. */
class Collector {
  posts: Post[] = [];
  status = 200;
  #server: Server | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/ingest`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.status === 200)
          this.posts.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(this.status, { 'content-type': 'application/json' }).end('{"errors":false}');
      });
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.#server = server;
  }

  async down(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Request ids received, from the JSON lines of every format. */
  requestIds(): string[] {
    const ids: string[] = [];
    for (const p of this.posts)
      for (const line of p.body.split('\n')) {
        if (line === '') continue;
        const o = JSON.parse(line) as Record<string, unknown>;
        const ev = (o['event'] ?? o) as Record<string, unknown>;
        if (ev['type'] === 'request' && !String(ev['path']).startsWith('/.gatehouse/'))
          ids.push(String(ev['request_id']));
      }
    return ids;
  }
}

async function collector(): Promise<Collector> {
  const c = new Collector(await freePort());
  await c.up();
  return c;
}

function config(upstream: string, sink: Record<string, unknown>): Record<string, unknown> {
  return {
    upstreams: { app: { url: upstream } },
    audit: {
      sinks: [{ type: 'http', batch_interval: '20ms', retry: { initial: '30ms', max: '150ms' }, ...sink }],
    },
    routes: [{ name: 'open', match: { path: '/' }, upstream: 'app', auth: 'none' }],
  };
}

async function metric(gh: TestGateway, name: string, sink: string): Promise<number> {
  const r = await send(gh.url, '/.gatehouse/metrics');
  const m = new RegExp(`^${name}\\{sink="${sink}"\\} (\\S+)$`, 'm').exec(r.body);
  return m ? Number(m[1]) : NaN;
}

async function requests(
  gh: TestGateway,
  n: number,
  from = 0,
): Promise<{ ids: string[]; statuses: number[] }> {
  const ids: string[] = [];
  const statuses: number[] = [];
  for (let i = from; i < from + n; i++) {
    const r = await send(gh.url, `/r${i}`);
    statuses.push(r.status);
    ids.push(String(r.headers['x-request-id']));
  }
  return { ids, statuses };
}

test('http sink: JSON lines with the Authorization header from ${ENV}; collector down and back: every event delivered, no crash', async () => {
  const col = await collector();
  const up = await startUpstream();
  const gh = await startGatehouse(
    config(up.url, { url: col.url, headers: { Authorization: 'Bearer ${COLLECTOR_TOKEN}' } }),
    { env: { COLLECTOR_TOKEN: 'tok-123' } },
  );
  try {
    const a = await requests(gh, 5);
    await waitFor(() => col.requestIds().length === 5, 5000, 'first events');
    assert.equal(col.posts[0]?.headers.authorization, 'Bearer tok-123');
    assert.equal(col.posts[0]?.headers['content-type'], 'application/x-ndjson');
    const first = JSON.parse(col.posts[0]?.body.split('\n')[0] as string) as Record<string, unknown>;
    assert.equal(first['type'], 'audit.chain_start', 'the chain start (public key) reaches the collector');

    await col.down();
    const b = await requests(gh, 10, 5);
    assert.deepEqual(new Set(b.statuses), new Set([200]), 'drop mode keeps serving');
    await waitFor(
      async () => (await metric(gh, 'gatehouse_audit_events_failed_total', 'http')) > 0,
      5000,
      'failures',
    );
    assert.equal(await metric(gh, 'gatehouse_audit_sink_up', 'http'), 0);

    col.status = 503;
    await col.up();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(col.requestIds().length, 5, 'a 503 answer is retried, not counted as delivered');
    col.status = 200;
    await waitFor(() => col.requestIds().length === 15, 5000, 'retried events');
    assert.deepEqual(col.requestIds(), [...a.ids, ...b.ids], 'every event, in order, once');
    assert.equal(await metric(gh, 'gatehouse_audit_sink_up', 'http'), 1);
    assert.equal(await metric(gh, 'gatehouse_audit_events_dropped_total', 'http'), 0);
  } finally {
    await gh.close();
    await up.close();
    await col.down();
  }
});

test('http sink, drop: beyond the buffer events are dropped and counted; the rest arrives', async () => {
  const col = await collector();
  const up = await startUpstream();
  const gh = await startGatehouse(config(up.url, { url: col.url, name: 'siem', buffer: { max_events: 5 } }));
  try {
    await requests(gh, 1);
    await waitFor(() => col.requestIds().length === 1, 5000, 'first event');
    await col.down();
    const r = await requests(gh, 20, 1);
    assert.ok(
      r.statuses.every((s) => s === 200),
      'r.statuses.every((s) => s === 200)',
    );
    await waitFor(
      async () => (await metric(gh, 'gatehouse_audit_events_dropped_total', 'siem')) > 0,
      5000,
      'drops',
    );
    await col.up();
    await waitFor(
      async () => (await metric(gh, 'gatehouse_audit_events_buffered', 'siem')) === 0,
      5000,
      'drain',
    );
    const dropped = await metric(gh, 'gatehouse_audit_events_dropped_total', 'siem');
    const got = col.requestIds().length;
    assert.ok(got >= 2 && got <= 6, `delivered ${got}`);
    assert.ok(dropped >= 15, `dropped ${dropped}`);
  } finally {
    await gh.close();
    await up.close();
    await col.down();
  }
});

test('http sink, block: while the collector is away requests are refused 503 GH_AUDIT_UNAVAILABLE, then served again', async () => {
  const col = await collector();
  const up = await startUpstream();
  const gh = await startGatehouse(config(up.url, { url: col.url, on_failure: 'block' }));
  try {
    assert.equal((await send(gh.url, '/a')).status, 200);
    await col.down();
    // The first event after the collector left fails to write: from then on, fail closed.
    await send(gh.url, '/b');
    await waitFor(async () => (await send(gh.url, '/probe')).status === 503, 5000, 'refusals');
    const r = await send(gh.url, '/c', { headers: { accept: 'application/json' } });
    assert.equal(r.status, 503);
    assert.equal(r.json().error, 'GH_AUDIT_UNAVAILABLE');
    assert.equal(r.headers['retry-after'], '5');
    assert.equal((await send(gh.url, '/.gatehouse/health')).status, 200, 'health endpoints still answer');
    assert.equal(up.received.filter((q) => q.url === '/c').length, 0, 'nothing forwarded');
    await col.up();
    await waitFor(async () => (await send(gh.url, '/d')).status === 200, 5000, 'served again');
    await waitFor(() => col.requestIds().length >= 4, 5000, 'buffered events delivered');
    const refused = gh.audit.filter((e) => e.error === 'GH_AUDIT_UNAVAILABLE');
    assert.ok(refused.length >= 1, 'refusals are audited too');
    assert.ok(
      refused.every((e) => col.requestIds().includes(e.request_id)),
      'and reach the collector once it is back',
    );
  } finally {
    await gh.close();
    await up.close();
    await col.down();
  }
});

test('http sink formats: splunk_hec envelopes and elastic_bulk actions; the collector copy verifies', async () => {
  for (const format of ['splunk_hec', 'elastic_bulk'] as const) {
    const col = await collector();
    const up = await startUpstream();
    const gh = await startGatehouse(config(up.url, { url: col.url, format, index: 'audit-gh' }));
    try {
      await requests(gh, 3);
      await waitFor(() => col.requestIds().length === 3, 5000, `${format} events`);
    } finally {
      await gh.close();
      await up.close();
      await col.down();
    }
    const lines = col.posts.flatMap((p) => p.body.split('\n').filter((l) => l !== ''));
    let events: string[];
    if (format === 'splunk_hec') {
      const envs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(
        envs.every((e) => e['sourcetype'] === 'gatehouse:audit' && e['index'] === 'audit-gh'),
        "envs.every((e) => e['sourcetype'] === 'gatehouse:audit' && e['index'] === 'audit-gh')",
      );
      assert.ok(
        envs.every((e) => typeof e['time'] === 'number'),
        "envs.every((e) => typeof e['time'] === 'number')",
      );
      // Each line is the envelope around the event exactly as written: recover it byte for byte.
      events = lines.map((l) => l.slice(l.indexOf(',"event":') + 9, -1));
    } else {
      assert.deepEqual(JSON.parse(lines[0] as string), { create: { _index: 'audit-gh' } });
      events = lines.filter((_, i) => i % 2 === 1);
    }
    const dir = mkdtempSync(join(tmpdir(), 'gh-audit-http-'));
    try {
      writeFileSync(join(dir, 'copy.jsonl'), `${events.join('\n')}\n`);
      let out = '';
      const io = {
        stdout: new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) }),
        stderr: new Writable({ write: (_c, _e, cb) => cb() }),
      };
      const code = await main(['audit', 'verify', '--complete', join(dir, 'copy.jsonl')], io);
      assert.equal(code, 0, `${format}: ${out}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
