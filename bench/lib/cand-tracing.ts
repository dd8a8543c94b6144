import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Candidate } from './candidate.js';
import { GATE_PATH, gatePlain, launchGatehouse } from './cand-core.js';
import { expectStatus, httpGet } from './http.js';

/** A local OTLP/HTTP sink: answers every export with 200 `{}` and counts the requests. */
async function startSink(): Promise<{ url: string; exports: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    exports: () => n,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * gh-plain with `tracing:` on (every request sampled, default batching) exporting to a local
 * OTLP sink: two spans per request (request, upstream) and a new traceparent upstream. Paired
 * with gh-plain in the same rounds: the ratio is what tracing costs; gh-plain itself measures
 * the path with tracing off (one check per stage).
 */
export const gatehousePlainTraced: Candidate = {
  id: 'gh-plain-traced',
  label: 'Gatehouse plain proxy + tracing (OTLP/HTTP to a local sink, sample_ratio 1)',
  relativeTo: 'gh-plain',
  floors: [],
  async start(ctx) {
    const sink = await startSink();
    const { gh, logFiles } = await launchGatehouse(ctx, 'gh-plain-traced', {
      route: { auth: 'none' },
      top: { tracing: { otlp: { endpoint: sink.url }, service_name: 'bench' } },
    });
    try {
      await gatePlain('gh-plain-traced', gh.url);
      const echo = await httpGet(`${gh.url}${GATE_PATH}/x`);
      expectStatus('gh-plain-traced: GET to the echo upstream', echo, 200);
      const tp = (JSON.parse(echo.body) as { headers: Record<string, unknown> }).headers.traceparent;
      if (typeof tp !== 'string' || !/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/.test(tp))
        throw new Error(`gh-plain-traced: no sampled traceparent reached the upstream: ${String(tp)}`);
      const until = Date.now() + 15_000;
      while (sink.exports() === 0) {
        if (Date.now() > until) throw new Error('gh-plain-traced: no export reached the OTLP sink in 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (e) {
      await gh.stop();
      await sink.close();
      throw e;
    }
    return {
      pid: gh.pid,
      load: { url: `${gh.url}/bench` },
      logFiles,
      stop: async () => {
        await gh.stop();
        await sink.close();
      },
    };
  },
};
