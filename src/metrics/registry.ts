/**
 * A tiny Prometheus metrics registry: counters, gauges and fixed-bucket histograms with labels,
 * rendered in the text exposition format 0.0.4. Label children are resolved once (`labels()`)
 * and kept by the caller, so a per-request update is one property increment; the label text of
 * a child is escaped once when the child is created.
 */

/** Content-Type of the text exposition format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Distinct label combinations kept per metric; further ones share one `other` child. */
export const DEFAULT_MAX_CHILDREN = 2000;

/** Value placed in every label of the overflow child. */
export const OVERFLOW_LABEL = 'other';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value (`\`, `"`, newline). */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** Formats a sample value: integers as is, `+Inf`, `-Inf`, `NaN`. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** `{a="x",b="y"}` for the given names and values, or '' without labels. */
export function labelText(names: readonly string[], values: readonly string[], extra = ''): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Anything the registry can render. */
export interface Collectable {
  readonly name: string;
  /** Appends the `# HELP`, `# TYPE` and sample lines. */
  collect(out: string[]): void;
}

function header(out: string[], name: string, help: string, type: string): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
}

/** Shared child bookkeeping of labelled metrics. */
abstract class Labelled<C> implements Collectable {
  readonly #children = new Map<string, C>();
  #overflow: C | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
    readonly maxChildren: number = DEFAULT_MAX_CHILDREN,
  ) {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    for (const l of labelNames) if (!LABEL.test(l) || l === 'le') throw new Error(`invalid label name ${l}`);
  }

  protected abstract create(labels: string): C;
  abstract collect(out: string[]): void;

  /**
   * The child for these label values (one per label name, in order). Resolve once and keep it;
   * past `maxChildren` distinct combinations every new one maps to the `other` child.
   */
  labels(...values: string[]): C {
    const key = values.length === 1 ? (values[0] as string) : values.join('\u0000');
    const c = this.#children.get(key);
    if (c) return c;
    if (this.#children.size >= this.maxChildren) {
      this.#overflow ??= this.create(
        labelText(
          this.labelNames,
          this.labelNames.map(() => OVERFLOW_LABEL),
        ),
      );
      return this.#overflow;
    }
    const child = this.create(labelText(this.labelNames, values));
    this.#children.set(key, child);
    return child;
  }

  protected children(): C[] {
    const all = [...this.#children.values()];
    if (this.#overflow) all.push(this.#overflow);
    return all;
  }
}

/** One labelled counter series. */
export class CounterChild {
  value = 0;
  constructor(readonly labels: string) {}
  inc(n = 1): void {
    this.value += n;
  }
}

/** Counters and gauges: one value per series, exposed the same way. */
abstract class Scalar<C extends { readonly labels: string; value: number }> extends Labelled<C> {
  protected abstract readonly type: 'counter' | 'gauge';
  collect(out: string[]): void {
    header(out, this.name, this.help, this.type);
    for (const c of this.children()) out.push(`${this.name}${c.labels} ${formatValue(c.value)}`);
  }
}

/** A monotonically increasing counter (`_total` by convention). */
export class Counter extends Scalar<CounterChild> {
  protected readonly type = 'counter';
  protected create(labels: string): CounterChild {
    return new CounterChild(labels);
  }
}

/** One labelled gauge series. */
export class GaugeChild {
  value = 0;
  constructor(readonly labels: string) {}
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

/** A value that goes up and down. */
export class Gauge extends Scalar<GaugeChild> {
  protected readonly type = 'gauge';
  protected create(labels: string): GaugeChild {
    return new GaugeChild(labels);
  }
}

/** One labelled histogram series: per-bucket (non-cumulative) counts, sum and count. */
export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: string,
    private readonly bounds: Float64Array,
  ) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    const c = this.counts;
    if (i < b.length) c[i] = (c[i] as number) + 1;
    this.sum += v;
    this.count++;
  }
}

/** Default latency buckets in seconds (1 ms … 30 s). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** A histogram with fixed upper bounds (`le`); `+Inf` is implicit. */
export class Histogram extends Labelled<HistogramChild> {
  readonly #bounds: Float64Array;
  readonly #le: string[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS,
    maxChildren = DEFAULT_MAX_CHILDREN,
  ) {
    super(name, help, labelNames, maxChildren);
    for (let i = 1; i < buckets.length; i++)
      if ((buckets[i] as number) <= (buckets[i - 1] as number))
        throw new Error(`${name}: buckets must increase`);
    this.#bounds = Float64Array.from(buckets);
    this.#le = buckets.map((b) => `le="${formatValue(b)}"`);
  }

  protected create(labels: string): HistogramChild {
    return new HistogramChild(labels, this.#bounds);
  }

  collect(out: string[]): void {
    header(out, this.name, this.help, 'histogram');
    for (const c of this.children()) {
      const base = c.labels === '' ? '' : c.labels.slice(1, -1);
      const lab = (le: string) => `{${base ? `${base},` : ''}${le}}`;
      let cum = 0;
      for (let i = 0; i < this.#le.length; i++) {
        cum += c.counts[i] as number;
        out.push(`${this.name}_bucket${lab(this.#le[i] as string)} ${formatValue(cum)}`);
      }
      out.push(`${this.name}_bucket${lab('le="+Inf"')} ${formatValue(c.count)}`);
      const suffix = c.labels;
      out.push(
        `${this.name}_sum${suffix} ${formatValue(c.sum)}`,
        `${this.name}_count${suffix} ${formatValue(c.count)}`,
      );
    }
  }
}

/** One sample of a metric computed at scrape time. */
export interface Sample {
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly value: number;
}

/**
 * A counter or gauge whose samples are computed when scraped (process stats, counters kept by
 * other modules): nothing happens per request.
 */
export class CallbackMetric implements Collectable {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    private readonly read: () => Iterable<Sample>,
  ) {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
  }
  collect(out: string[]): void {
    header(out, this.name, this.help, this.type);
    for (const s of this.read()) {
      const names = s.labels ? Object.keys(s.labels) : [];
      const labels = s.labels ? labelText(names, Object.values(s.labels)) : '';
      out.push(`${this.name}${labels} ${formatValue(s.value)}`);
    }
  }
}

/** A set of metrics rendered together. */
export class Registry {
  readonly #metrics: Collectable[] = [];
  readonly #names = new Set<string>();

  /** Adds a metric; names are unique. Returns it for chaining. */
  register<M extends Collectable>(m: M): M {
    if (this.#names.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.#names.add(m.name);
    this.#metrics.push(m);
    return m;
  }

  /** The text exposition (format 0.0.4), ending with a newline. */
  expose(): string {
    const out: string[] = [];
    for (const m of this.#metrics) m.collect(out);
    return `${out.join('\n')}\n`;
  }
}
