import { connect } from 'node:net';
import { requireBinary } from '../../test/helpers/binaries.js';
import { freePort, waitFor } from '../../test/helpers/ports.js';
import { redisServerArgs } from '../../test/helpers/redis.js';
import type { BenchContext, Candidate, RunningCandidate } from './candidate.js';
import { shared } from './candidate.js';
import { cachedDoc, limitMemoryDoc, limitRedisDoc, quotaMemoryDoc, type LimitsBenchDoc } from '../limits.js';
import { GATE_PATH, gatePlain, launchGatehouse } from './cand-core.js';
import { expectStatus, httpGet } from './http.js';
import { spawnPinned, stopChild } from './procs.js';

function redisCommand(port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setTimeout(2000, () => s.destroy(new Error('redis: timeout')));
    s.once('connect', () => s.write(`${cmd}\r\n`));
    s.once('data', (d) => {
      resolve(d.toString());
      s.end();
    });
    s.once('error', reject);
  });
}

/** One redis-server for the run, pinned to the proxy CPU (it is part of the system under test). */
export function benchRedis(ctx: BenchContext): Promise<{ port: number; pid: number }> {
  return shared(ctx, 'redis', async () => {
    const bin = requireBinary('redis-server', 'redis-server');
    const port = await freePort();
    const args = redisServerArgs(port);
    const child = spawnPinned(ctx.opts.proxyCpu, bin, args, { stdio: 'ignore' });
    await waitFor(
      async () => (await redisCommand(port, 'PING')).startsWith('+PONG'),
      10_000,
      `redis-server on ${port}`,
    );
    ctx.cleanup(() => stopChild(child));
    return { port, pid: child.pid ?? 0 };
  });
}

/** Starts a limited candidate; its gate route (limit 1 per minute/hour) must answer 200, then 429. */
async function startLimited(
  ctx: BenchContext,
  id: string,
  doc: LimitsBenchDoc,
  extraPids: number[],
): Promise<RunningCandidate> {
  const { gh, logFiles } = await launchGatehouse(ctx, id, doc);
  try {
    await gatePlain(id, gh.url);
    expectStatus(
      `${id}: first request on the gate route (limit 1)`,
      await httpGet(`${gh.url}${GATE_PATH}/a`),
      200,
    );
    expectStatus(
      `${id}: second request on the gate route (limit 1)`,
      await httpGet(`${gh.url}${GATE_PATH}/a`),
      429,
    );
  } catch (e) {
    await gh.stop();
    throw e;
  }
  return { pid: gh.pid, extraPids, load: { url: `${gh.url}/bench` }, logFiles, stop: () => gh.stop() };
}

/** Plain proxy plus one in-memory token-bucket limit per client IP. Target (issue 6): < 5 % cost. */
export const limitMemory: Candidate = {
  id: 'gh-limit-memory',
  label: 'Gatehouse plain + rate limit (memory store)',
  relativeTo: 'gh-plain',
  floors: [{ kind: 'relative', min: 0.95, source: 'issue 6' }],
  start: (ctx) => startLimited(ctx, 'gh-limit-memory', limitMemoryDoc(), []),
};

/** A sliding-window quota per client IP in memory: also an in-memory limiter (< 5 % cost). */
export const quotaMemory: Candidate = {
  id: 'gh-quota-memory',
  label: 'Gatehouse plain + quota (memory store, sliding window)',
  relativeTo: 'gh-plain',
  floors: [{ kind: 'relative', min: 0.95, source: 'issue 6' }],
  start: (ctx) => startLimited(ctx, 'gh-quota-memory', quotaMemoryDoc(), []),
};

/** The same limit with counters in Redis (CPU and RSS include redis-server). Target: < 25 % cost. */
export const limitRedis: Candidate = {
  id: 'gh-limit-redis',
  label: 'Gatehouse plain + rate limit (Redis store; CPU includes redis-server)',
  relativeTo: 'gh-plain',
  floors: [
    { kind: 'relative', min: 0.75, source: 'issue 6' },
    { kind: 'relative', min: 0.85, source: 'issue 19' },
  ],
  async start(ctx) {
    const redis = await benchRedis(ctx);
    const c = await startLimited(ctx, 'gh-limit-redis', limitRedisDoc(`redis://127.0.0.1:${redis.port}`), [
      redis.pid,
    ]);
    const keys = await redisCommand(redis.port, 'DBSIZE');
    if (!/^:[1-9]/.test(keys)) {
      await c.stop();
      throw new Error(`gh-limit-redis: the limiter wrote nothing to Redis (DBSIZE ${keys.trim()})`);
    }
    return c;
  },
};

/** Plain route with the response cache on (every request after the first is a hit). */
export const cached: Candidate = {
  id: 'gh-cache',
  label: 'Gatehouse plain + response cache (memory, hits)',
  relativeTo: 'gh-plain',
  floors: [],
  async start(ctx) {
    const { gh, logFiles } = await launchGatehouse(ctx, 'gh-cache', cachedDoc());
    try {
      await gatePlain('gh-cache', gh.url);
      const second = await httpGet(`${gh.url}/bench`);
      expectStatus('gh-cache: second GET /bench', second, 200);
      const xc = String(second.headers['x-cache'] ?? '');
      if (!/hit/i.test(xc))
        throw new Error(`gh-cache: second GET /bench was not served from cache (X-Cache: ${xc || 'absent'})`);
    } catch (e) {
      await gh.stop();
      throw e;
    }
    return {
      pid: gh.pid,
      load: { url: `${gh.url}/bench` },
      logFiles,
      notes: () => cacheNotes(gh.url),
      stop: () => gh.stop(),
    };
  },
};

/** Cache size and hit ratio from the candidate's own Prometheus metrics. */
async function cacheNotes(base: string): Promise<string[]> {
  const text = (await httpGet(`${base}/.gatehouse/metrics`)).body;
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  const hits = value(/^gatehouse_cache_requests_total\{result="hit"\} (\S+)$/m);
  const misses = value(/^gatehouse_cache_requests_total\{result="miss"\} (\S+)$/m);
  const bytes = value(/^gatehouse_cache_bytes (\S+)$/m);
  const entries = value(/^gatehouse_cache_entries (\S+)$/m);
  return [
    `gh-cache: hit ratio ${(hits / (hits + misses)).toFixed(4)} (${hits} hits, ${misses} misses); ` +
      `cache holds ${entries} entr${entries === 1 ? 'y' : 'ies'}, ${bytes} bytes`,
  ];
}
