// Baseline "naive Node proxy" of ../shared/benchmarks.md: node:http server + undici Pool,
// no auth, no logging. Usage: node naive.mjs <port> <upstream-url>
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [port, upstream] = process.argv.slice(2);
const pool = new Pool(upstream, { connections: 64, pipelining: 1 });
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
]);

createServer((req, res) => {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
  pool
    .request({
      path: req.url,
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    })
    .then(
      (up) => {
        const out = {};
        for (const [k, v] of Object.entries(up.headers)) if (!HOP.has(k)) out[k] = v;
        res.writeHead(up.statusCode, out);
        up.body.pipe(res);
      },
      () => {
        res.statusCode = 502;
        res.end();
      },
    );
}).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
