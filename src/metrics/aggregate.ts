import { formatValue } from './registry.js';

/** One process's exposition text and the label value naming it. */
export interface WorkerExposition {
  readonly worker: string;
  readonly text: string;
}

interface Family {
  readonly header: string[];
  type: string;
  /** Series key (`name{labels}`) → summed value, in first-seen order. */
  readonly sums: Map<string, number>;
  /** Gauge series, one per worker, already labelled. */
  readonly perWorker: string[];
}

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

function withWorker(series: string, worker: string): string {
  const label = `worker="${worker}"`;
  const brace = series.indexOf('{');
  if (brace < 0) return `${series}{${label}}`;
  const inner = series.slice(brace + 1, -1);
  return `${series.slice(0, brace)}{${inner ? `${inner},` : ''}${label}}`;
}

/**
 * Merges the text expositions of every worker into one (format 0.0.4): counters, histograms
 * (buckets, `_sum`, `_count`) and untyped series are summed per identical series; gauges (memory,
 * in-flight requests, connections…) are kept per process with a `worker` label, since a sum of
 * resident memory or a sum of "ready" flags would mislead. Runs per scrape, never per request.
 */
export function mergeExpositions(parts: readonly WorkerExposition[]): string {
  const families = new Map<string, Family>();
  for (const { worker, text } of parts) {
    let current: Family | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        const [, kind, name, ...rest] = line.split(' ');
        if ((kind !== 'HELP' && kind !== 'TYPE') || name === undefined) continue;
        current = families.get(name);
        if (!current) {
          current = { header: [], type: 'untyped', sums: new Map(), perWorker: [] };
          families.set(name, current);
        }
        if (kind === 'TYPE') current.type = rest[0] ?? 'untyped';
        if (!current.header.some((h) => h.startsWith(`# ${kind} `))) current.header.push(line);
        continue;
      }
      const sp = line.lastIndexOf(' ');
      if (sp < 0 || !current) continue;
      const series = line.slice(0, sp);
      const value = parseValue(line.slice(sp + 1));
      if (current.type === 'gauge')
        current.perWorker.push(`${withWorker(series, worker)} ${formatValue(value)}`);
      else current.sums.set(series, (current.sums.get(series) ?? 0) + value);
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    out.push(...f.header);
    for (const [series, v] of f.sums) out.push(`${series} ${formatValue(v)}`);
    out.push(...f.perWorker);
  }
  return `${out.join('\n')}\n`;
}
