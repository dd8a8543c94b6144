import type { FloorResult } from './floors.js';
import type { LoadResult } from './wrk.js';
import { median } from './stats.js';

/** One measured load run of one candidate. */
export interface RoundResult extends LoadResult {
  readonly round: number;
  /** Midpoint of the run, ms since the epoch (for interpolating the reference). */
  readonly at: number;
  /** Proxy CPU time (user + system, process tree) per completed request, µs. */
  readonly cpuUsPerReq: number;
  /** nginx upstream CPU time per request, µs. */
  readonly upstreamUsPerReq: number;
  /** Busy % of the proxy core and of the load-generator core during the run. */
  readonly proxyCoreBusy: number;
  /**
   * % of the proxy core's time spent in tasks other than the proxy and the upstream (plus
   * hypervisor steal): other processes disturbing the run.
   */
  readonly foreignPercent: number;
  /** % of the proxy core's time in interrupts/softirq (loopback networking). */
  readonly proxyCoreIrq: number;
  readonly loadCoreBusy: number;
  /** Bytes written to the candidate's access/audit logs per request (0 when none). */
  readonly logBytesPerReq: number;
  /** Context switches of the whole machine (`ctxt` of /proc/stat) per completed request. */
  readonly switchesPerReq: number;
}

/** A candidate against one baseline row, paired per round. */
export interface PairedRatio {
  /** Baseline row id. */
  readonly to: string;
  /** Median of the per-round ratios rps(candidate) / rps(baseline). */
  readonly median: number;
  readonly perRound: readonly number[];
  /** Round number of each entry of `perRound` (a failed run has none). */
  readonly rounds: readonly number[];
  /** CPU µs/req relative to the baseline's, minus 1. */
  readonly cpuCost: number;
}

/** A candidate's aggregated figures over all rounds. */
export interface CandidateSummary {
  readonly id: string;
  readonly label: string;
  readonly status: 'measured' | 'skipped' | 'failed';
  readonly reason?: string | undefined;
  readonly rounds: readonly (RoundResult | undefined)[];
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerReq: number;
  readonly peakRssMiB: number;
  /** Median of per-round rps / rps(nginx); min and max of those ratios; their CV %. */
  readonly ratio: {
    readonly median: number;
    readonly min: number;
    readonly max: number;
    readonly cv: number;
    readonly perRound: readonly number[];
  };
  /**
   * Noise-resistant estimate of the ratio: (nginx proxy + upstream CPU per request) / (this
   * candidate's proxy + upstream CPU per request), paired per round. Equals the rps ratio when
   * the proxy core is saturated by the proxy and the upstream alone.
   */
  readonly cpuModelRatio: number;
  /** The paired ratio to `relativeTo` (also in {@link CandidateSummary.paired}). */
  readonly relative?:
    { readonly to: string; readonly median: number; readonly perRound: readonly number[] } | undefined;
  /** Paired ratios to every baseline: `relativeTo` first, then the rows floors name (`to`). */
  readonly paired: readonly PairedRatio[];
  readonly errors: number;
  readonly floors: readonly FloorResult[];
}

const fx = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');

function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number>,
): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    '| ' +
    cells.map((c, i) => (right.has(i) ? c.padStart(w[i] as number) : c.padEnd(w[i] as number))).join(' | ') +
    ' |';
  const sep =
    '|' + w.map((n, i) => (right.has(i) ? '-'.repeat(n + 1) + ':' : '-'.repeat(n + 2))).join('|') + '|';
  return [line(head), sep, ...rows.map(line)].join('\n');
}

/** The results table (Markdown, readable in a terminal). */
export function resultsTable(sums: readonly CandidateSummary[]): string {
  const rows = sums
    .filter((s) => s.status === 'measured')
    .map((s) => [
      s.id,
      int(s.rps),
      fx(s.p50Ms, 2),
      fx(s.p99Ms, 2),
      fx(s.cpuUsPerReq, 1),
      fx(s.peakRssMiB, 1),
      s.id === 'nginx' ? '1.00' : `${fx(s.ratio.median, 2)} [${fx(s.ratio.min, 2)}–${fx(s.ratio.max, 2)}]`,
      s.id === 'nginx' ? '1.00' : fx(s.cpuModelRatio, 2),
      s.paired.map((p) => `${fx(p.median, 2)} × ${p.to}`).join('; '),
      String(s.errors),
    ]);
  return table(
    [
      'candidate',
      'rps (median)',
      'p50 ms',
      'p99 ms',
      'CPU µs/req',
      'peak RSS MiB',
      'ratio to nginx [min–max]',
      'CPU-model ratio',
      'paired ratio',
      'errors',
    ],
    rows,
    new Set([1, 2, 3, 4, 5, 6, 7, 9]),
  );
}

/** Per-round rps, to show the spread behind each median. */
export function roundsTable(sums: readonly CandidateSummary[], rounds: number): string {
  const measured = sums.filter((s) => s.status === 'measured');
  const head = [
    'candidate',
    ...Array.from({ length: rounds }, (_, i) => `r${i + 1} rps`),
    'ratio CV %',
    'other % (max)',
    'ctx switches/req',
  ];
  const rows = measured.map((s) => [
    s.id,
    ...Array.from({ length: rounds }, (_, i) => {
      const r = s.rounds[i];
      return r ? int(r.rps) : 'fail';
    }),
    s.id === 'nginx' ? '' : fx(s.ratio.cv, 1),
    fx(Math.max(0, ...s.rounds.map((r) => r?.foreignPercent ?? 0)), 0),
    fx(median(s.rounds.flatMap((r) => (r ? [r.switchesPerReq] : []))), 2),
  ]);
  return table(head, rows, new Set(Array.from({ length: rounds + 3 }, (_, i) => i + 1)));
}

/**
 * Every paired comparison with its per-round ratios, median and CPU per request against the
 * baseline's; empty when no measured row has a measured baseline.
 */
export function pairedTable(sums: readonly CandidateSummary[], rounds: number): string {
  const rows: string[][] = [];
  for (const s of sums) {
    if (s.status !== 'measured') continue;
    for (const p of s.paired)
      rows.push([
        s.id,
        p.to,
        ...Array.from({ length: rounds }, (_, i) => fx(p.perRound[p.rounds.indexOf(i + 1)] ?? Number.NaN, 2)),
        fx(p.median, 2),
        Number.isFinite(p.cpuCost) ? `${p.cpuCost >= 0 ? '+' : ''}${(p.cpuCost * 100).toFixed(1)} %` : '—',
      ]);
  }
  if (rows.length === 0) return '';
  const head = [
    'candidate',
    'baseline',
    ...Array.from({ length: rounds }, (_, i) => `r${i + 1}`),
    'median',
    'CPU/req',
  ];
  return table(head, rows, new Set(Array.from({ length: rounds + 2 }, (_, i) => i + 2)));
}

/** Floors with PASS / MISS, plus the candidates that did not run and why. */
export function floorsTable(sums: readonly CandidateSummary[]): string {
  const rows: string[][] = [];
  for (const s of sums) {
    if (s.status !== 'measured') continue;
    for (const f of s.floors)
      rows.push([s.id, f.source, f.target, f.value, f.pass === undefined ? 'N/A' : f.pass ? 'PASS' : 'MISS']);
  }
  return rows.length
    ? table(['candidate', 'from', 'floor', 'measured', 'result'], rows, new Set())
    : '(no floors apply to the candidates measured)';
}

/** Candidates not measured, with their reasons (first line only). */
export function notRun(sums: readonly CandidateSummary[]): string {
  const rows = sums
    .filter((s) => s.status !== 'measured')
    .map((s) => `- ${s.id}: ${s.status.toUpperCase()} — ${(s.reason ?? '').split('\n')[0]}`);
  return rows.join('\n');
}
