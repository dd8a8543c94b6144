import { freePort } from '../../test/helpers/ports.js';
import type { BenchContext, Candidate, RunningCandidate } from './candidate.js';
import { logFile } from './candidate.js';
import { ensureBuilt, startGatehouse, type GatehouseProcess } from './gatehouse.js';
import { expectStatus, httpGet, httpPost } from './http.js';
import { startReferenceProxy, UPSTREAM_BODY } from './nginx.js';

/** Path prefix of the gate route: same stages as the measured route, upstream = node echo server. */
export const GATE_PATH = '/__gate';

/** Checks that a plain proxied request returns the upstream's exact body. */
export async function gatePlain(what: string, url: string): Promise<void> {
  const r = await httpGet(`${url}/bench`);
  expectStatus(`${what}: GET /bench`, r, 200);
  if (r.body !== UPSTREAM_BODY)
    throw new Error(`${what}: body differs from the upstream's: ${JSON.stringify(r.body.slice(0, 200))}`);
}

/** The reference: nginx proxy_pass with a keep-alive upstream pool. */
export const nginxReference: Candidate = {
  id: 'nginx',
  label: 'nginx proxy_pass (keep-alive pool) — reference',
  floors: [],
  async start(ctx: BenchContext): Promise<RunningCandidate> {
    const px = await startReferenceProxy(ctx.upstream.port, ctx.opts.proxyCpu);
    await gatePlain('nginx', px.url);
    return { pid: px.pid, load: { url: `${px.url}/bench` }, stop: () => px.stop() };
  },
};

/** A second reference instance: nginx vs nginx must come out at ≈ 1.00 (harness self-test). */
export const nginxSelfTest: Candidate = {
  ...nginxReference,
  id: 'nginx-2',
  label: 'nginx proxy_pass, second instance (self-test)',
  optIn: true,
};

/** Inputs of a Gatehouse candidate config, merged into the common skeleton. */
export interface GatehouseDoc {
  /** Route fields (match/upstream are set here); applied to the measured and the gate route. */
  readonly route: Record<string, unknown>;
  /** Fields of the gate route instead of `route` (e.g. a tiny rate limit that must answer 429). */
  readonly gateRoute?: Record<string, unknown> | undefined;
  /** Top-level sections (providers, policies, identity, limits…). */
  readonly top?: Record<string, unknown> | undefined;
  /** Extra `server` keys (e.g. `workers`). */
  readonly server?: Record<string, unknown> | undefined;
  /** Audit to a file (per-request audit event) when true. */
  readonly audit?: boolean | undefined;
}

/** Writes the config, starts Gatehouse pinned to the proxy CPU, returns it with its log files. */
export async function launchGatehouse(
  ctx: BenchContext,
  id: string,
  doc: GatehouseDoc,
  cpu: number | string = ctx.opts.proxyCpu,
): Promise<{ gh: GatehouseProcess; logFiles: string[] }> {
  await ensureBuilt(ctx.log);
  const echo = await ctx.echo();
  const port = await freePort();
  const accessLog = logFile(ctx, `${id}.access`);
  const auditLog = logFile(ctx, `${id}.audit`);
  const config = {
    server: { listeners: [{ address: '127.0.0.1', port }], ...doc.server },
    log: { level: 'info', access_log: true, file: accessLog },
    ...(doc.audit ? { audit: { file: auditLog } } : {}),
    upstreams: { app: { url: ctx.upstream.url }, gate: { url: echo.url } },
    routes: [
      { name: 'bench', match: { path: '/' }, upstream: 'app', ...doc.route },
      { name: 'gate', match: { path: GATE_PATH }, upstream: 'gate', ...(doc.gateRoute ?? doc.route) },
    ],
    ...doc.top,
  };
  const gh = await startGatehouse(id, config, {
    dir: ctx.dir,
    cpu,
    port,
    readyPath: '/bench',
  });
  const logFiles = [accessLog, ...(doc.audit ? [auditLog] : [])].filter((f) => f !== '/dev/null');
  return { gh, logFiles };
}

/**
 * Gatehouse plain proxying: `auth: none`, access log on. Targets: ≥ 0.40, p99 ≤ 3×p50 (issue 2);
 * ≥ 0.60 (issue 19).
 */
export const gatehousePlain: Candidate = {
  id: 'gh-plain',
  label: 'Gatehouse plain proxy (access log on)',
  floors: [
    { kind: 'ratio', min: 0.4, source: 'issue 2' },
    { kind: 'tail', max: 3, source: 'issue 2' },
    { kind: 'ratio', min: 0.6, source: 'issue 19' },
  ],
  async start(ctx) {
    const { gh, logFiles } = await launchGatehouse(ctx, 'gh-plain', { route: { auth: 'none' } });
    try {
      await gatePlain('gh-plain', gh.url);
    } catch (e) {
      await gh.stop();
      throw e;
    }
    return { pid: gh.pid, load: { url: `${gh.url}/bench` }, logFiles, stop: () => gh.stop() };
  },
};

/** 1 KiB request body of the POST row. */
const POST_BODY = 'x'.repeat(1024);

/**
 * Gatehouse plain proxying of 1 KiB POSTs: the body is buffered before an upstream connection
 * is taken (`server.request_buffer_size`, issue 12) and leaves with the head. Compared with
 * gh-plain (GET) in the same rounds.
 */
function postCandidate(id: string, label: string, server: Record<string, unknown> | undefined): Candidate {
  return {
    id,
    label,
    relativeTo: 'gh-plain',
    floors: [],
    async start(ctx) {
      const { gh, logFiles } = await launchGatehouse(ctx, id, { route: { auth: 'none' }, server });
      try {
        const r = await httpPost(`${gh.url}/bench`, POST_BODY);
        expectStatus(`${id}: POST /bench`, r, 200);
        const echo = await httpPost(`${gh.url}${GATE_PATH}/post`, POST_BODY);
        expectStatus(`${id}: POST to the echo upstream`, echo, 200);
        const seen = (JSON.parse(echo.body) as { bodyBytes?: number }).bodyBytes;
        if (seen !== POST_BODY.length)
          throw new Error(`${id}: the upstream received ${seen} body bytes, not ${POST_BODY.length}`);
      } catch (e) {
        await gh.stop();
        throw e;
      }
      return {
        pid: gh.pid,
        load: { url: `${gh.url}/bench`, postBody: POST_BODY },
        logFiles,
        stop: () => gh.stop(),
      };
    },
  };
}

export const gatehousePost = postCandidate(
  'gh-post-1k',
  'Gatehouse plain proxy, POST 1 KiB (body buffered before the upstream)',
  undefined,
);

/** The same with `request_buffer_size: 0`: the body streams; the cost of buffering is the difference. */
export const gatehousePostStream = postCandidate(
  'gh-post-1k-stream',
  'Gatehouse plain proxy, POST 1 KiB (request_buffer_size: 0, streamed)',
  { request_buffer_size: 0 },
);

/**
 * `workers: auto` (one worker per CPU) on every CPU, sharing them with wrk and the upstream: the
 * deployment shape, measured separately (issue 2). Its ratio is not comparable with the pinned
 * rows; it shows what the cluster adds on this 2-core machine.
 */
export const gatehouseCluster: Candidate = {
  id: 'gh-cluster',
  label: 'Gatehouse plain proxy, workers: auto, unpinned (deployment shape)',
  floors: [],
  async start(ctx) {
    const { gh, logFiles } = await launchGatehouse(
      ctx,
      'gh-cluster',
      { route: { auth: 'none' }, server: { workers: 'auto' } },
      `${ctx.opts.loadCpu},${ctx.opts.proxyCpu}`,
    );
    try {
      await gatePlain('gh-cluster', gh.url);
    } catch (e) {
      await gh.stop();
      throw e;
    }
    return { pid: gh.pid, load: { url: `${gh.url}/bench` }, logFiles, stop: () => gh.stop() };
  },
};
