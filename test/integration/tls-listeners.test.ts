import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { createPki, type TestPki, type TestCa, type CertFiles } from '../helpers/certs.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { httpsGet } from '../helpers/https.js';
import { freePort } from '../helpers/ports.js';

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

/** GET over a given https agent; resolves with the status, the peer certificate serial and the socket. */
function getWith(agent: Agent | false, port: number, ca: string) {
  return new Promise<{ status: number; serial: string; socket: TLSSocket; reused: boolean }>(
    (resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          servername: 'localhost',
          ca,
          agent,
          headers: { host: `localhost:${port}` },
        },
        (res) => {
          const socket = res.socket as TLSSocket;
          const serial = socket.getPeerCertificate().serialNumber;
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, serial, socket, reused: req.reusedSocket }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

/** A plain request with an arbitrary Host; resolves with status and Location. */
function plain(port: number, method: string, path: string, host: string) {
  return new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers: { host }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? 'a=1' : undefined);
  });
}

describe('TLS listeners: PFX certificates, reload without dropping connections, https redirect', () => {
  let pki: TestPki;
  let ca: TestCa;
  let leaf1: CertFiles;
  let leaf2: CertFiles;
  let upstream: RecordingUpstream;
  const gateways: TestGateway[] = [];
  const routes = (extra: Record<string, unknown> = {}) => [
    { match: { path: '/' }, upstream: 'app', auth: 'none', ...extra },
  ];
  const start = async (config: Record<string, unknown>, env: Record<string, string> = {}) => {
    const gh = await startGatehouse({ upstreams: { app: { url: upstream.url } }, ...config }, { env });
    gateways.push(gh);
    return gh;
  };

  before(async () => {
    pki = createPki();
    ca = pki.createCa('listener-ca');
    leaf1 = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] });
    leaf2 = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] });
    upstream = await startUpstream();
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await upstream.close();
    pki.cleanup();
  });

  describe('PKCS#12 (pfx) listener certificates', () => {
    let pfx: string;
    before(() => {
      pfx = join(pki.dir, 'listener.pfx');
      execFileSync('openssl', [
        'pkcs12',
        '-export',
        '-in',
        leaf1.certPath,
        '-inkey',
        leaf1.keyPath,
        '-certfile',
        ca.certPath,
        '-out',
        pfx,
        '-passout',
        'pass:correct horse',
      ]);
    });

    it('serves the certificate from a pfx whose passphrase comes from the environment', async () => {
      const gh = await start(
        {
          server: {
            listeners: [{ address: '127.0.0.1', port: 0, tls: { pfx, passphrase: '${PFX_PASSPHRASE}' } }],
          },
          routes: routes(),
        },
        { PFX_PASSPHRASE: 'correct horse' },
      );
      const r = await getWith(false, gh.port, ca.cert);
      assert.equal(r.status, 200);
      assert.equal(r.serial, serialOf(leaf1.cert));
    });

    it('names the key for a wrong or missing passphrase, an unreadable file, and both forms at once', async () => {
      const listener = (tls: Record<string, unknown>) => ({
        server: { listeners: [{ address: '127.0.0.1', port: 0, tls }] },
        routes: routes(),
      });
      await assert.rejects(
        start(listener({ pfx, passphrase: 'wrong' })),
        /server\.listeners\[0\]\.tls\.passphrase: wrong passphrase for .*listener\.pfx/,
      );
      await assert.rejects(
        start(listener({ pfx })),
        /server\.listeners\[0\]\.tls\.passphrase: .* is encrypted: set passphrase/,
      );
      await assert.rejects(
        start(listener({ pfx: join(pki.dir, 'missing.pfx'), passphrase: 'x' })),
        /server\.listeners\[0\]\.tls\.pfx: cannot read .*missing\.pfx: ENOENT/,
      );
      await assert.rejects(
        start(listener({ pfx: leaf1.certPath, passphrase: 'x' })),
        /server\.listeners\[0\]\.tls\.pfx: cannot load .* as PKCS#12/,
      );
      await assert.rejects(
        start(listener({ pfx, passphrase: 'x', cert: leaf1.certPath, key: leaf1.keyPath })),
        /server\.listeners\[0\]\.tls\.pfx: set either pfx or cert and key, not both/,
      );
      await assert.rejects(
        start(listener({ cert: leaf1.certPath })),
        /server\.listeners\[0\]\.tls\.key: required/,
      );
    });
  });

  it('an encrypted PEM key opens with passphrase; without it the error names passphrase', async () => {
    const encrypted = join(pki.dir, 'encrypted.key');
    execFileSync('openssl', [
      'pkey',
      '-in',
      leaf1.keyPath,
      '-aes256',
      '-passout',
      'pass:pem pass',
      '-out',
      encrypted,
    ]);
    const listener = (tls: Record<string, unknown>) => ({
      server: {
        listeners: [{ address: '127.0.0.1', port: 0, tls: { cert: leaf1.certPath, key: encrypted, ...tls } }],
      },
      routes: routes(),
    });
    const gh = await start(listener({ passphrase: 'pem pass' }));
    assert.equal((await getWith(false, gh.port, ca.cert)).serial, serialOf(leaf1.cert));
    await assert.rejects(
      start(listener({})),
      /server\.listeners\[0\]\.tls\.passphrase: .*encrypted\.key is encrypted/,
    );
    await assert.rejects(
      start(listener({ passphrase: 'nope' })),
      /server\.listeners\[0\]\.tls\.passphrase: wrong passphrase for .*encrypted\.key/,
    );
  });

  it('reload swaps certificate and key for new connections; an open keep-alive connection keeps working', async () => {
    const certPath = join(pki.dir, 'live.crt');
    const keyPath = join(pki.dir, 'live.key');
    copyFileSync(leaf1.certPath, certPath);
    copyFileSync(leaf1.keyPath, keyPath);
    const gh = await start({
      server: { listeners: [{ address: '127.0.0.1', port: 0, tls: { cert: certPath, key: keyPath } }] },
      routes: routes(),
    });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await getWith(keepAlive, gh.port, ca.cert);
      assert.equal(first.serial, serialOf(leaf1.cert));

      copyFileSync(leaf2.certPath, certPath);
      copyFileSync(leaf2.keyPath, keyPath);
      await gh.gateway.reload(gh.gateway.state.config);

      const fresh = await getWith(false, gh.port, ca.cert);
      assert.equal(fresh.status, 200);
      assert.equal(fresh.serial, serialOf(leaf2.cert), 'a new connection sees the new certificate');
      const again = await getWith(keepAlive, gh.port, ca.cert);
      assert.equal(again.status, 200);
      assert.ok(again.reused && again.socket === first.socket, 'the same keep-alive connection served it');
      assert.equal(again.serial, serialOf(leaf1.cert), 'an open connection keeps its handshake');

      // A broken key makes the reload fail and changes nothing.
      writeFileSync(keyPath, 'not a key');
      await assert.rejects(
        gh.gateway.reload(gh.gateway.state.config),
        /server\.listeners\[0\]\.tls\.(key|cert)/,
      );
      assert.equal((await getWith(false, gh.port, ca.cert)).serial, serialOf(leaf2.cert));
      assert.equal((await httpsGet(gh.url, '/', { ca: ca.cert })).status, 200);
    } finally {
      keepAlive.destroy();
    }
  });

  describe('plain-HTTP listener that redirects to https', () => {
    let gh: TestGateway;
    let httpPort: number;
    let httpsPort: number;
    before(async () => {
      const tlsPort = await freePort();
      gh = await start({
        server: {
          external_url: 'https://gate.example.com',
          listeners: [
            { address: '127.0.0.1', port: 0, redirect_to_https: true, https_port: tlsPort },
            { address: '127.0.0.1', port: tlsPort, tls: { cert: leaf1.certPath, key: leaf1.keyPath } },
          ],
        },
        routes: [
          { match: { host: 'app.example.com', path: '/' }, upstream: 'app', auth: 'none' },
          { match: { host: '*.corp.example', path: '/' }, upstream: 'app', auth: 'none' },
        ],
      });
      httpPort = gh.gateway.listeners[0]?.port as number;
      httpsPort = gh.gateway.listeners[1]?.port as number;
    });

    it('answers 301 for GET/HEAD and 308 otherwise, to the https port, keeping path and query', async () => {
      const before = upstream.received.length;
      assert.deepEqual(await plain(httpPort, 'GET', '/a/b?x=1&y=%20', 'app.example.com'), {
        status: 301,
        location: `https://app.example.com:${httpsPort}/a/b?x=1&y=%20`,
      });
      assert.deepEqual(await plain(httpPort, 'HEAD', '/', 'APP.example.com:80'), {
        status: 301,
        location: `https://app.example.com:${httpsPort}/`,
      });
      assert.deepEqual(await plain(httpPort, 'POST', '/form', 'gate.example.com'), {
        status: 308,
        location: `https://gate.example.com:${httpsPort}/form`,
      });
      assert.equal((await plain(httpPort, 'GET', '/', 'x.corp.example')).status, 301);
      const ws = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port: httpPort,
          path: '/socket',
          agent: false,
          headers: { host: 'app.example.com', connection: 'Upgrade', upgrade: 'websocket' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, location: res.headers.location });
        });
        req.on('upgrade', () => reject(new Error('upgraded')));
        req.on('error', reject);
        req.end();
      });
      assert.deepEqual(ws, { status: 301, location: `https://app.example.com:${httpsPort}/socket` });
      assert.equal(upstream.received.length, before, 'nothing is proxied');
    });

    it('refuses hosts no route or external_url names (never an open redirect)', async () => {
      for (const host of [
        'evil.example',
        'corp.example',
        'app.example.com.evil.example',
        'app.example.com@evil',
        '',
      ]) {
        const r = await plain(httpPort, 'GET', '/', host);
        assert.equal(r.status, 400, host);
        assert.equal(r.location, undefined);
      }
    });

    it('omits the port when the https port is 443 (the default)', async () => {
      const lb = await start({
        server: {
          external_url: 'https://gate.example.com',
          listeners: [{ address: '127.0.0.1', port: 0, redirect_to_https: true }],
        },
        routes: routes(),
      });
      assert.deepEqual(await plain(lb.port, 'GET', '/p?q', 'gate.example.com'), {
        status: 301,
        location: 'https://gate.example.com/p?q',
      });
    });

    it('refuses a redirect listener with nowhere to send clients, or with tls', async () => {
      await assert.rejects(
        start({
          server: { listeners: [{ address: '127.0.0.1', port: 0, redirect_to_https: true }] },
          routes: routes(),
        }),
        /server\.listeners\[0\]\.redirect_to_https: no host to redirect to/,
      );
      await assert.rejects(
        start({
          server: {
            listeners: [
              {
                address: '127.0.0.1',
                port: 0,
                redirect_to_https: true,
                tls: { cert: leaf1.certPath, key: leaf1.keyPath },
              },
            ],
          },
          routes: routes(),
        }),
        /server\.listeners\[0\]\.redirect_to_https: a redirect listener is plain HTTP/,
      );
    });
  });
});
