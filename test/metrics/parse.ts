/** One parsed sample of the Prometheus text format. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed exposition: samples plus `# TYPE` per family. */
export interface Exposition {
  readonly samples: ParsedSample[];
  readonly types: Map<string, string>;
  /** Sum of the samples named `name` whose labels include every pair in `where`. */
  value(name: string, where?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) throw new Error(`bad value ${v}`);
  return Number(v);
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === 'histogram') return base;
    }
  }
  return undefined;
}

/**
 * A strict parser of the text exposition format 0.0.4, enough to check Gatehouse's output:
 * every sample belongs to a family announced by `# HELP` and `# TYPE` before it, label values
 * are well escaped, no series appears twice, and histograms are cumulative with `+Inf == _count`.
 */
export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const samples: ParsedSample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const seen = new Set<string>();
  for (const [i, line] of text.slice(0, -1).split('\n').entries()) {
    if (line.startsWith('# HELP ')) {
      const name = line.slice(7).split(' ')[0] ?? '';
      if (helps.has(name)) throw new Error(`line ${i + 1}: second HELP for ${name}`);
      helps.add(name);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name = '', type = ''] = line.slice(7).split(' ');
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type))
        throw new Error(`line ${i + 1}: type ${type}`);
      if (types.has(name)) throw new Error(`line ${i + 1}: second TYPE for ${name}`);
      if (!helps.has(name)) throw new Error(`line ${i + 1}: TYPE before HELP for ${name}`);
      types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#'))
      throw new Error(`line ${i + 1}: unexpected ${JSON.stringify(line)}`);
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const name = m[1] as string;
    if (familyOf(name, types) === undefined) throw new Error(`line ${i + 1}: ${name} has no TYPE before it`);
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex;
      const l = LABEL.exec(body);
      if (!l || l.index !== start) throw new Error(`line ${i + 1}: bad labels ${body}`);
      if ((l[1] as string) in labels) throw new Error(`line ${i + 1}: duplicate label ${l[1]}`);
      labels[l[1] as string] = unescape(l[2] as string);
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`line ${i + 1}: duplicate series ${key}`);
    seen.add(key);
    samples.push({ name, labels, value: parseValue(m[4] as string) });
  }
  checkHistograms(samples, types);
  const matches = (s: ParsedSample, where: Record<string, string>) =>
    Object.entries(where).every(([k, v]) => s.labels[k] === v);
  return {
    samples,
    types,
    value: (name, where = {}) =>
      samples.filter((s) => s.name === name && matches(s, where)).reduce((a, s) => a + s.value, 0),
  };
}

function checkHistograms(samples: ParsedSample[], types: Map<string, string>): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, ParsedSample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le: _le, ...rest } = s.labels;
      const k = JSON.stringify(rest);
      series.set(k, [...(series.get(k) ?? []), s]);
    }
    for (const [k, buckets] of series) {
      let prev = -Infinity;
      let prevCount = 0;
      for (const b of buckets) {
        const le = parseValue(b.labels.le ?? '');
        if (!(le > prev)) throw new Error(`${family}${k}: le not increasing`);
        if (b.value < prevCount) throw new Error(`${family}${k}: buckets not cumulative`);
        prev = le;
        prevCount = b.value;
      }
      if (prev !== Infinity) throw new Error(`${family}${k}: no +Inf bucket`);
      const labels = JSON.parse(k) as Record<string, string>;
      const count = samples.find(
        (s) => s.name === `${family}_count` && JSON.stringify(s.labels) === JSON.stringify(labels),
      );
      if (!count || count.value !== prevCount) throw new Error(`${family}${k}: +Inf bucket != _count`);
    }
  }
}
