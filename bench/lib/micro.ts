/**
 * In-process micro-benchmarks printed after the load table: route matching (bench/routes.ts)
 * and identity propagation (bench/identity.ts). Each is imported lazily so a module that does
 * not load is reported, not fatal.
 */
import type { RouteBenchResult } from '../routes.js';
import type { IdentityBenchRow } from '../identity.js';

export interface MicroResults {
  readonly routes: readonly RouteBenchResult[] | { readonly error: string };
  readonly identity: readonly IdentityBenchRow[] | { readonly error: string };
}

const failed = (e: unknown) => ({ error: ((e as Error).message ?? String(e)).split('\n')[0] ?? 'failed' });

/** Runs both micro-benchmarks (about 10 s) in the runner process. */
export async function runMicro(): Promise<MicroResults> {
  const routes = await import('../routes.js').then((m) => m.benchRoutes()).catch(failed);
  const identity = await import('../identity.js').then((m) => m.benchIdentity()).catch(failed);
  return { routes, identity };
}

/** Printable report lines. */
export function microLines(r: MicroResults): string[] {
  const out: string[] = ['Route matching (bench/routes.ts, Router.match in the runner process):', ''];
  if ('error' in r.routes) out.push(`  not run: ${r.routes.error}`);
  else
    for (const x of r.routes)
      out.push(
        `  ${x.routes.toLocaleString('en-US').padStart(6)} routes: ${x.nsPerMatch.toFixed(0).padStart(6)} ns/match (hit ratio ${x.hitRatio.toFixed(2)})`,
      );
  out.push('', 'Identity propagation per request (bench/identity.ts):', '');
  if ('error' in r.identity) out.push(`  not run: ${r.identity.error}`);
  else
    for (const x of r.identity)
      out.push(`  ${x.scenario.padEnd(56)} ${String(x.nsPerRequest).padStart(8)} ns`);
  return out;
}
