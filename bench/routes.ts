import { pathToFileURL } from 'node:url';
import { Router, type RouteEntry } from '../src/routing/router.js';

/** One row: the route-table size and the cost of one `Router.match`. */
export interface RouteBenchResult {
  readonly routes: number;
  /** Median CPU time per lookup (process.cpuUsage), robust against other processes on the host. */
  readonly nsPerMatch: number;
  /** Median wall-clock time per lookup. */
  readonly wallNsPerMatch: number;
  /**
   * Median CPU time per lookup when the lookups touch only 10 routes (caches warm): isolates
   * the algorithmic cost from the memory cost of a large table.
   */
  readonly hotNsPerMatch: number;
  /** Fraction of the lookups that found a route (the rest are 404/405 misses). */
  readonly hitRatio: number;
}

/** Lookups per timed round; the figure is the median over {@link ROUNDS} rounds. */
const ROUND = 100_000;
const ROUNDS = 5;
const WARMUP_ROUNDS = 2;

/** A realistic table: exact, wildcard and any-host routes, prefix/exact, method-limited, some IIS. */
function table(n: number): RouteEntry<number>[] {
  const entries: RouteEntry<number>[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    entries.push({
      route: i,
      hosts:
        kind === 0
          ? [`app${i % 97}.example.com`]
          : kind === 1
            ? [`*.tenant${i % 13}.example.com`]
            : undefined,
      path: `/svc${i}/${i % 2 === 0 ? 'api/v1' : 'ui'}`,
      pathType: i % 5 === 0 ? 'exact' : 'prefix',
      methods: i % 3 === 0 ? new Set(['GET', 'HEAD']) : undefined,
      caseInsensitive: i < 4 || i % 11 === 0,
      index: i,
    });
  }
  entries.push({
    route: n,
    hosts: ['app0.example.com'],
    path: '/',
    pathType: 'prefix',
    methods: undefined,
    caseInsensitive: false,
    index: n,
  });
  return entries;
}

type Query = readonly [host: string, path: string, method: string];

/**
 * 1,024 lookups: hits at several depths, method fallbacks, unknown paths and unknown hosts,
 * spread over `spread` different routes.
 */
function queries(n: number, spread: number): Query[] {
  const out: Query[] = [];
  for (let q = 0; q < 1024; q++) {
    const i = (q * 7919) % spread;
    const kind = i % 4;
    const host =
      kind === 0
        ? `app${i % 97}.example.com`
        : kind === 1
          ? `x.tenant${i % 13}.example.com`
          : 'any.example.org';
    const base = `/svc${i}/${i % 2 === 0 ? 'api/v1' : 'ui'}`;
    switch (q % 6) {
      case 0:
        out.push([host, base, 'GET']);
        break;
      case 1:
        out.push([host, `${base}/users/42/profile`, 'GET']);
        break;
      case 2:
        out.push([host, `${base}/items`, 'POST']);
        break;
      case 3:
        out.push([host, `/svc${i}/missing/x`, 'GET']);
        break;
      case 4:
        out.push([`unknown${q}.example.net`, `${base}/x`, 'GET']);
        break;
      default:
        out.push(['app0.example.com', `/static/js/app.${q}.js`, 'GET']);
    }
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

function timeRounds(router: Router<number>, qs: Query[]): { cpu: number; wall: number; hitRatio: number } {
  const round = (): { cpu: number; wall: number; hits: number } => {
    let hits = 0;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < ROUND; k++) {
      const q = qs[k & 1023] as Query;
      if ('route' in router.match(q[0], q[1], q[2])) hits++;
    }
    const wall = Number(process.hrtime.bigint() - t0) / ROUND;
    const c = process.cpuUsage(c0);
    return { cpu: ((c.user + c.system) * 1000) / ROUND, wall, hits };
  };
  for (let k = 0; k < WARMUP_ROUNDS; k++) round();
  const rounds = Array.from({ length: ROUNDS }, round);
  const hits = rounds.reduce((s, r) => s + r.hits, 0);
  return {
    cpu: Math.round(median(rounds.map((r) => r.cpu)) * 10) / 10,
    wall: Math.round(median(rounds.map((r) => r.wall)) * 10) / 10,
    hitRatio: Math.round((hits / (ROUND * ROUNDS)) * 100) / 100,
  };
}

function measure(n: number): RouteBenchResult {
  const router = new Router(table(n));
  const spread = timeRounds(router, queries(n, n));
  const hot = timeRounds(router, queries(n, Math.min(n, 10)));
  return {
    routes: n,
    nsPerMatch: spread.cpu,
    wallNsPerMatch: spread.wall,
    hotNsPerMatch: hot.cpu,
    hitRatio: spread.hitRatio,
  };
}

/**
 * Times `Router.match` for 10, 1,000 and 10,000 routes: 200k warm-up lookups, then 5 rounds of
 * 100k lookups mixing hits (several depths, method fallbacks) and misses (404, 405, unknown host)
 * over up to 1,024 different routes; then the same mix over 10 routes only (`hotNsPerMatch`).
 */
export async function benchRoutes(): Promise<RouteBenchResult[]> {
  const rows: RouteBenchResult[] = [];
  for (const n of [10, 1000, 10_000]) {
    rows.push(measure(n));
    await new Promise((r) => setImmediate(r));
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchRoutes();
  console.log('routes   cpu ns/match   wall ns/match   hot cpu ns/match   hit ratio');
  for (const r of rows) {
    const cols = [
      String(r.routes).padStart(6),
      r.nsPerMatch.toFixed(1).padStart(12),
      r.wallNsPerMatch.toFixed(1).padStart(13),
      r.hotNsPerMatch.toFixed(1).padStart(16),
      r.hitRatio.toFixed(2).padStart(9),
    ];
    console.log(cols.join('   '));
  }
}
