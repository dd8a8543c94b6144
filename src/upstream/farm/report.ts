import type { Farm, FarmSnapshot } from './farm.js';
import type { UpstreamHandle } from '../pool.js';

/** The parts of a runtime state that hold upstreams. */
export interface UpstreamSource {
  readonly upstreams: ReadonlyMap<string, UpstreamHandle>;
  readonly routes: readonly { readonly upstream: UpstreamHandle }[];
}

/** Every farm of a state, named ones and routes' inline ones, each once. */
export function farmsOf(state: UpstreamSource): Farm[] {
  const out = new Set<Farm>();
  for (const u of state.upstreams.values()) if (u.farm) out.add(u.farm);
  for (const r of state.routes) if (r.upstream.farm) out.add(r.upstream.farm);
  return [...out];
}

/**
 * Readiness details of every farm (`{upstreams: {name: {balance, healthy_targets, targets}}}`),
 * or `{}` when the state has none, so the `/.gatehouse/ready` body of single-URL configs is
 * unchanged. A farm without available target does not make Gatehouse unready: other routes
 * still serve, and that upstream answers 503 GH_UPSTREAM_NO_HEALTHY_TARGET itself.
 */
export function upstreamReadiness(state: UpstreamSource): { upstreams?: Record<string, FarmSnapshot> } {
  const farms = farmsOf(state);
  if (farms.length === 0) return {};
  const upstreams: Record<string, FarmSnapshot> = {};
  for (const f of farms) upstreams[f.name] = f.snapshot();
  return { upstreams };
}
