import { benchRoutes, type RouteBenchResult } from '../routes.js';

export type RouteBenchRow = RouteBenchResult;

/** Route-matching micro-benchmark (bench/routes.ts): 10 / 1,000 / 10,000 routes, ns per match. */
export function runRouteBench(): Promise<RouteBenchRow[]> {
  return benchRoutes();
}

/** Printable lines for the report. */
export function routeLines(rows: readonly RouteBenchRow[]): string[] {
  return rows.map(
    (r) =>
      `  ${r.routes.toLocaleString('en-US').padStart(6)} routes: ${r.nsPerMatch.toFixed(0).padStart(6)} ns/match (hit ratio ${r.hitRatio.toFixed(2)})`,
  );
}
