import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/ports.js';
import { logFile, shared, type BenchContext, type Candidate } from './candidate.js';
import { baseline } from './cand-baselines.js';
import { GATE_PATH } from './cand-core.js';
import { ensureBuilt, SkipCandidate, startGatehouse } from './gatehouse.js';
import type { SimpleResponse } from './http.js';
import { startNginxProxy, UPSTREAM_BODY } from './nginx.js';

/**
 * TLS listener rows (issue 14, "Done when"): wrk with keep-alive connections over https to
 * Gatehouse's TLS listener, compared with nginx terminating TLS the same way (same certificate,
 * an ECDSA P-256 key, TLS 1.2–1.3 with the libraries' default ciphers, `proxy_pass` to the same
 * upstream through a keep-alive pool) in the same run. With keep-alive the handshake is paid once
 * per connection: the rows measure record encryption and the TLS listener's request path (Node's
 * https server; the plain-HTTP fast lane does not apply).
 */

interface BenchCert {
  readonly cert: string;
  readonly key: string;
  readonly pem: string;
}

/** One self-signed certificate for 127.0.0.1, made with openssl once per run. */
export function benchCert(ctx: BenchContext): Promise<BenchCert> {
  return shared(ctx, 'tls-cert', () => {
    const cert = join(ctx.dir, 'tls-bench.crt');
    const key = join(ctx.dir, 'tls-bench.key');
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-subj',
          '/CN=127.0.0.1',
          '-days',
          '2',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (e) {
      throw new SkipCandidate(`openssl could not make the bench certificate: ${(e as Error).message}`);
    }
    return Promise.resolve({ cert, key, pem: readFileSync(cert, 'utf8') });
  });
}

/** GET over TLS on a fresh connection, trusting `ca`, with a 5 s deadline. */
function httpsGet(url: string, ca: string): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function gateTls(what: string, url: string, ca: string): Promise<void> {
  const r = await httpsGet(`${url}/bench`, ca);
  if (r.status !== 200 || r.body !== UPSTREAM_BODY)
    throw new Error(`${what}: GET /bench over TLS: HTTP ${r.status} ${JSON.stringify(r.body.slice(0, 200))}`);
}

/** The reference of the TLS rows: nginx terminating TLS. */
export const nginxTls: Candidate = {
  id: 'nginx-tls',
  label: 'nginx TLS termination + proxy_pass (keep-alive clients)',
  floors: [],
  async start(ctx) {
    const cert = await benchCert(ctx);
    const px = await startNginxProxy([ctx.upstream.port], ctx.opts.proxyCpu, { tls: cert });
    try {
      await gateTls('nginx-tls', px.url, cert.pem);
    } catch (e) {
      await px.stop();
      throw e;
    }
    return { pid: px.pid, load: { url: `${px.url}/bench` }, stop: () => px.stop() };
  },
};

/**
 * The cheapest Node TLS proxy (bench/baselines/pipe.mjs with the bench certificate: TLS ended by
 * Node, bytes piped to an upstream connection of its own, no HTTP work). Its ratio to nginx-tls
 * is the ceiling any Node proxy has on the TLS rows.
 */
export const nodePipeTls: Candidate = baseline(
  'base-pipe-tls',
  'pipe.mjs',
  'Node TLS byte pipe, one upstream connection per client, no HTTP parsing (ceiling of a Node TLS proxy)',
  false,
  async (ctx) => {
    const cert = await benchCert(ctx);
    return { args: [cert.cert, cert.key], tlsGate: (url) => gateTls('base-pipe-tls', url, cert.pem) };
  },
  'nginx-tls',
);

/** Gatehouse with a TLS listener (PEM certificate), `auth: none`, access log on; compared with nginx-tls. */
export const gatehouseTls: Candidate = {
  id: 'gh-tls',
  label: 'Gatehouse TLS listener, plain proxy (keep-alive clients, access log on)',
  relativeTo: 'nginx-tls',
  // Issue 19: TLS costs the plain path at most 10 %, and Gatehouse is level with nginx terminating TLS.
  floors: [
    { kind: 'relative', to: 'gh-plain', min: 0.9, source: 'issue 19' },
    { kind: 'relative', to: 'nginx-tls', min: 1.0, source: 'issue 19' },
  ],
  async start(ctx) {
    const cert = await benchCert(ctx);
    await ensureBuilt(ctx.log);
    const echo = await ctx.echo();
    // The plain listener only answers the harness's readiness probe; the load goes to the TLS one.
    const [port, tlsPort] = [await freePort(), await freePort()];
    const accessLog = logFile(ctx, 'gh-tls.access');
    const gh = await startGatehouse(
      'gh-tls',
      {
        server: {
          listeners: [
            { address: '127.0.0.1', port },
            { address: '127.0.0.1', port: tlsPort, tls: { cert: cert.cert, key: cert.key } },
          ],
        },
        log: { level: 'info', access_log: true, file: accessLog },
        upstreams: { app: { url: ctx.upstream.url }, gate: { url: echo.url } },
        routes: [
          { name: 'bench', match: { path: '/' }, upstream: 'app', auth: 'none' },
          { name: 'gate', match: { path: GATE_PATH }, upstream: 'gate', auth: 'none' },
        ],
      },
      { dir: ctx.dir, cpu: ctx.opts.proxyCpu, port, readyPath: '/bench' },
    );
    const url = `https://127.0.0.1:${tlsPort}`;
    try {
      await gateTls('gh-tls', url, cert.pem);
    } catch (e) {
      await gh.stop();
      throw e;
    }
    return {
      pid: gh.pid,
      load: { url: `${url}/bench` },
      logFiles: accessLog === '/dev/null' ? [] : [accessLog],
      stop: () => gh.stop(),
    };
  },
};
