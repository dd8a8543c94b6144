import type { Candidate } from './candidate.js';
import { checkFloor, type PairedFigure } from './floors.js';
import type { CandidateSummary, PairedRatio, RoundResult } from './report.js';
import { cvPercent, median, valueAt, type TimedValue } from './stats.js';

/** How each candidate's start went (measured, or skipped/failed with the reason). */
export type StartStatus = Map<string, { status: CandidateSummary['status']; reason?: string }>;

/** Every baseline a candidate is compared with: its `relativeTo`, then the floors' own `to`. */
export function baselinesOf(c: Candidate): string[] {
  const ids = [c.relativeTo, ...c.floors.map((f) => (f.kind === 'relative' ? f.to : undefined))];
  return [...new Set(ids.filter((x): x is string => x !== undefined && x !== c.id))];
}

/**
 * Aggregates the rounds: medians, per-round ratios to nginx (each run paired with the reference
 * interpolated to the moment it ran), paired ratios to each baseline (same pairing), floors.
 */
export function summarise(
  cands: readonly Candidate[],
  rounds: Map<string, (RoundResult | undefined)[]>,
  closing: RoundResult | undefined,
  status: StartStatus,
  rss: Map<string, number>,
): CandidateSummary[] {
  const runs = (id: string) => (rounds.get(id) ?? []).filter((r): r is RoundResult => r !== undefined);
  const series = (list: readonly RoundResult[], get: (r: RoundResult) => number): TimedValue[] =>
    list.map((r) => ({ at: r.at, value: get(r) }));
  const refRuns = [...runs('nginx'), ...(closing ? [closing] : [])];
  const refRps = series(refRuns, (r) => r.rps);
  const refCore = series(refRuns, (r) => r.cpuUsPerReq + r.upstreamUsPerReq);
  const cpuOf = (id: string) => median(runs(id).map((r) => r.cpuUsPerReq));
  /** Paired ratios of `id`'s runs against `to`'s (interpolated); undefined when `to` has no runs. */
  const pairedWith = (id: string, to: string): PairedRatio | undefined => {
    const base = series(runs(to), (r) => r.rps);
    if (base.length === 0 || runs(id).length === 0) return undefined;
    const perRound = runs(id).map((r) => r.rps / valueAt(base, r.at));
    const rounds = runs(id).map((r) => r.round);
    return { to, median: median(perRound), perRound, rounds, cpuCost: cpuOf(id) / cpuOf(to) - 1 };
  };
  return cands.map((c) => {
    const rs = rounds.get(c.id) ?? [];
    const ok = runs(c.id);
    const ratios = ok.map((r) => r.rps / valueAt(refRps, r.at));
    const paired = baselinesOf(c).flatMap((to) => pairedWith(c.id, to) ?? []);
    const rel = paired.find((p) => p.to === c.relativeTo);
    const p50Ms = median(ok.map((r) => r.p50Ms));
    const p99Ms = median(ok.map((r) => r.p99Ms));
    const ratio = {
      median: median(ratios),
      min: Math.min(...ratios),
      max: Math.max(...ratios),
      cv: cvPercent(ratios),
      perRound: ratios,
    };
    const cpuModelRatio = median(
      ok.map((r) => valueAt(refCore, r.at) / (r.cpuUsPerReq + r.upstreamUsPerReq)),
    );
    const st = status.get(c.id) ?? { status: 'failed' as const, reason: 'not started' };
    const figure = (to: string): PairedFigure | undefined => paired.find((p) => p.to === to);
    return {
      id: c.id,
      label: c.label,
      status: st.status,
      reason: st.reason,
      rounds: rs,
      rps: median(ok.map((r) => r.rps)),
      p50Ms,
      p99Ms,
      cpuUsPerReq: cpuOf(c.id),
      peakRssMiB: (rss.get(c.id) ?? Number.NaN) / 1024,
      ratio,
      cpuModelRatio,
      relative: rel ? { to: rel.to, median: rel.median, perRound: rel.perRound } : undefined,
      paired,
      errors: ok.reduce((a, r) => a + r.non2xx + r.socketErrors, 0),
      floors: c.floors.map((f) =>
        checkFloor(f, {
          ratio: ratio.median,
          relative: rel?.median,
          relativeTo: c.relativeTo,
          cpuCost: rel?.cpuCost,
          p50Ms,
          p99Ms,
          pairedWith: figure,
        }),
      ),
    };
  });
}
