import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { startUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { waitFor } from '../helpers/ports.js';
import { createPki } from '../helpers/certs.js';
import { main } from '../../src/cli/main.js';
import { startRsyslog, type Rsyslog } from './rsyslog.js';

function config(upstream: string, sink: Record<string, unknown>): Record<string, unknown> {
  return {
    upstreams: { app: { url: upstream } },
    audit: { sinks: [{ type: 'syslog', retry: { initial: '50ms', max: '200ms' }, ...sink }] },
    routes: [{ name: 'open', match: { path: '/' }, upstream: 'app', auth: 'none' }],
  };
}

/** Request ids of the request events rsyslog stored (internal endpoints left out). */
function storedIds(rs: Rsyslog): string[] {
  return rs
    .messages()
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e['type'] === 'request' && !String(e['path']).startsWith('/.gatehouse/'))
    .map((e) => String(e['request_id']));
}

async function metric(gh: TestGateway, name: string): Promise<number> {
  const r = await send(gh.url, '/.gatehouse/metrics');
  const m = new RegExp(`^${name}\\{sink="syslog"\\} (\\S+)$`, 'm').exec(r.body);
  return m ? Number(m[1]) : NaN;
}

async function get(gh: TestGateway, n: number, from = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) {
    const r = await send(gh.url, `/s${i}`);
    assert.equal(r.status, 200);
    ids.push(String(r.headers['x-request-id']));
  }
  return ids;
}

async function verify(file: string): Promise<{ code: number; out: string }> {
  let out = '';
  const w = new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) });
  const code = await main(['audit', 'verify', '--complete', file], { stdout: w, stderr: w });
  return { code, out };
}

test('syslog over TCP to a real rsyslog: RFC 5424 fields, octet counting, the stored copy verifies; rsyslog down and back', async () => {
  const rs = await startRsyslog();
  const up = await startUpstream();
  const gh = await startGatehouse(config(up.url, { address: `127.0.0.1:${rs.port}` }));
  let closed = false;
  try {
    const a = await get(gh, 5);
    await waitFor(() => storedIds(rs).length === 5, 10_000, 'events in rsyslog');
    const meta = readFileSync(rs.meta, 'utf8').split('\n')[0];
    assert.equal(meta, `authpriv info gatehouse audit ${hostname()}`);

    await rs.stop();
    const b = await get(gh, 8, 5);
    await waitFor(
      async () => (await metric(gh, 'gatehouse_audit_events_failed_total')) > 0,
      10_000,
      'failures',
    );
    assert.equal(await metric(gh, 'gatehouse_audit_sink_up'), 0);
    await rs.start();
    await waitFor(() => storedIds(rs).length === 13, 10_000, 'buffered events after rsyslog is back');
    assert.deepEqual(storedIds(rs), [...a, ...b]);
    assert.equal(await metric(gh, 'gatehouse_audit_sink_up'), 1);
    await gh.close();
    closed = true;
    await waitFor(() => rs.messages().some((l) => l.includes('"audit.chain_end"')), 10_000, 'chain end');
    const v = await verify(rs.out);
    assert.equal(v.code, 0, v.out);
  } finally {
    if (!closed) await gh.close();
    await up.close();
    await rs.cleanup();
  }
});

test('syslog over TLS (RFC 5425) to rsyslog with the gtls driver; an untrusted server fails closed with on_failure: block', async () => {
  const pki = createPki();
  const ca = pki.createCa('syslog-ca');
  const server = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'], usage: 'server' });
  const other = pki.createCa('other-ca');
  const rs = await startRsyslog({ ca: ca.certPath, cert: server.certPath, key: server.keyPath });
  const up = await startUpstream();
  const good = await startGatehouse(
    config(up.url, { address: `127.0.0.1:${rs.port}`, tls: { ca: ca.certPath, server_name: 'localhost' } }),
  );
  try {
    const ids = await get(good, 3);
    await waitFor(() => storedIds(rs).length === 3, 10_000, 'events over TLS');
    assert.deepEqual(storedIds(rs), ids);
  } finally {
    await good.close();
  }
  const bad = await startGatehouse(
    config(up.url, {
      address: `127.0.0.1:${rs.port}`,
      tls: { ca: other.certPath, server_name: 'localhost' },
      on_failure: 'block',
    }),
  );
  try {
    await send(bad.url, '/first');
    await waitFor(async () => (await send(bad.url, '/x')).status === 503, 10_000, 'fail closed');
    const r = await send(bad.url, '/y', { headers: { accept: 'application/json' } });
    assert.equal(r.json().error, 'GH_AUDIT_UNAVAILABLE');
    assert.equal(storedIds(rs).length, 3, 'nothing reached the untrusted server');
  } finally {
    await bad.close();
    await up.close();
    await rs.cleanup();
    pki.cleanup();
  }
});
