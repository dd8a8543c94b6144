import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { hashApiKey } from '../../src/authn/apikey.js';
import { createPki, type CertFiles, type TestPki } from '../helpers/certs.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { waitFor } from './helpers.js';

const KEY = 'billing-key-0123456789abcdef0123456789';

describe(
  'admin by client certificate (mTLS): API keys, assertion key rotation, stream bounds',
  { timeout: 120_000 },
  () => {
    let pki: TestPki;
    let server: CertFiles;
    let ops: CertFiles;
    let stranger: CertFiles;
    let caPem: string;
    let keyDir: string;
    let up: RecordingUpstream;
    let gh: TestGateway;
    let adminUrl: string;

    const agent = (c: CertFiles | undefined) =>
      new Agent({
        connect: { ca: caPem, ...(c ? { cert: c.cert, key: c.key } : {}), servername: 'localhost' },
      });

    async function call(
      c: CertFiles | undefined,
      path: string,
      opts: { method?: string; headers?: Record<string, string> } = {},
    ) {
      const res = await request(`${adminUrl}${path}`, {
        method: (opts.method ?? 'GET') as 'GET',
        headers: { accept: 'application/json', ...opts.headers },
        dispatcher: agent(c),
      });
      const text = await res.body.text();
      return {
        status: res.statusCode,
        json: JSON.parse(text) as Record<string, unknown>,
        headers: res.headers,
      };
    }

    before(async () => {
      pki = createPki();
      const ca = pki.createCa('admins');
      caPem = ca.cert;
      server = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'], usage: 'server' });
      ops = ca.issue({ cn: 'ops-laptop', usage: 'client' });
      stranger = ca.issue({ cn: 'someone-else', usage: 'client' });
      keyDir = mkdtempSync(join(tmpdir(), 'gh-admin-keys-'));
      up = await startUpstream();
      gh = await startGatehouse({
        server: { listeners: [{ address: '127.0.0.1', port: 0 }], external_url: 'http://127.0.0.1:1' },
        upstreams: { app: { url: up.url } },
        identity: { assertion: { key_dir: keyDir, activation_delay: '1s' } },
        api_keys: {
          keys: [{ id: 'billing-2025', hash: hashApiKey(KEY), client_id: 'billing', name: 'Billing' }],
        },
        routes: [
          {
            name: 'invoices',
            match: { path: '/invoices' },
            upstream: 'app',
            auth: 'apikey',
            allow: 'authenticated',
            identity: { assertion: { audience: 'billing' } },
          },
        ],
        admin: {
          listen: '127.0.0.1:0',
          tls: { cert: server.certPath, key: server.keyPath, client_ca: ca.certPath },
          access: { mtls_subjects: ['CN=ops-laptop'] },
          stream: { max_clients: 1 },
        },
      });
      adminUrl = (gh.gateway.admin?.listener.url as string).replace('127.0.0.1', 'localhost');
    });
    after(async () => {
      await gh?.close();
      await up?.close();
      pki?.cleanup();
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    });

    it('a listed client certificate is an admin; another one, or none, is refused', async () => {
      const me = await call(ops, '/api/whoami');
      assert.equal(me.status, 200);
      assert.equal(me.json.auth_method, 'mtls');
      assert.match(String(me.json.subject), /CN=ops-laptop/);
      const other = await call(stranger, '/api/whoami');
      assert.equal(other.status, 403);
      assert.equal(other.json.error, 'GH_ACCESS_DENIED');
      assert.equal((await call(undefined, '/api/whoami')).status, 403);
    });

    it('lists API keys with their last use, never a key or hash', async () => {
      const before = await call(ops, '/api/api-keys');
      const items0 = before.json.items as { id: string; last_used: string | null }[];
      assert.deepEqual(
        items0.map((k) => [k.id, k.last_used]),
        [['billing-2025', null]],
      );
      const r = await request(`${gh.url}/invoices/1`, { headers: { 'x-api-key': KEY } });
      await r.body.dump();
      assert.equal(r.statusCode, 200);
      const after = await call(ops, '/api/api-keys');
      const k = (
        after.json.items as { id: string; name: string; client_id: string; last_used: string | null }[]
      )[0];
      assert.equal(k?.name, 'Billing');
      assert.equal(k?.client_id, 'billing');
      assert.ok(
        k?.last_used !== null && Date.now() - Date.parse(k?.last_used as string) < 60_000,
        'k?.last_used !== null && Date.now() - Date.parse(k?.last_used as string) < 60_000',
      );
      const text = JSON.stringify(after.json);
      assert.ok(!text.includes(KEY) && !text.includes(hashApiKey(KEY).slice(7)), 'no secret');
    });

    it('rotates the assertion key: a new key is published at once, audited with the admin', async () => {
      const jwks = async () =>
        (
          (await (await fetch(`${gh.url}/.well-known/gatehouse/jwks.json`)).json()) as {
            keys: { kid: string }[];
          }
        ).keys.map((k) => k.kid);
      const before = await jwks();
      const files = readdirSync(keyDir).filter((f) => f.endsWith('.pem')).length;
      const bare = await call(ops, '/api/keys/assertion/rotate', { method: 'POST' });
      assert.equal(bare.status, 403, 'CSRF header required');
      assert.equal(readdirSync(keyDir).filter((f) => f.endsWith('.pem')).length, files, 'nothing written');
      const r = await call(ops, '/api/keys/assertion/rotate', {
        method: 'POST',
        headers: { 'x-gatehouse-admin': '1' },
      });
      assert.equal(r.status, 200);
      const kid = String(r.json.kid);
      assert.ok(!before.includes(kid), '!before.includes(kid)');
      assert.ok((await jwks()).includes(kid), 'published');
      const ev = await waitFor(() =>
        gh.audit.find((e) => e.type === 'admin.action' && e.action === 'assertion_key.rotate'),
      );
      assert.equal(ev.target, `kid:${kid}`);
      assert.match(String(ev.subject), /CN=ops-laptop/);
    });

    it('the live stream admits at most max_clients at once', async () => {
      const ac = new AbortController();
      const first = await request(`${adminUrl}/api/decisions/stream`, {
        dispatcher: agent(ops),
        signal: ac.signal,
      });
      assert.equal(first.statusCode, 200);
      try {
        const second = await call(ops, '/api/decisions/stream');
        assert.equal(second.status, 503);
        assert.equal(second.json.error, 'GH_ADMIN_STREAM_FULL');
      } finally {
        ac.abort();
        await first.body.dump().catch(() => undefined);
      }
      await waitFor(async () => {
        const again = await request(`${adminUrl}/api/decisions/stream`, {
          dispatcher: agent(ops),
          signal: AbortSignal.timeout(5000),
        });
        const ok = again.statusCode === 200;
        again.body.destroy();
        return ok ? true : undefined;
      });
    });
  },
);
