import type { z } from 'zod';

/** The parts of zod's internal definition that {@link keysAt} walks. */
interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
  readonly getter?: () => z.ZodType;
}

const def = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Every schema `s` may be once wrappers (optional, default, pipe, union, lazy…) are looked through. */
function variants(s: z.ZodType, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const d = def(s);
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return d.innerType ? variants(d.innerType, depth + 1) : [];
    case 'pipe':
      return d.in ? variants(d.in, depth + 1) : [];
    case 'lazy':
      return d.getter ? variants(d.getter(), depth + 1) : [];
    case 'union':
      return (d.options ?? []).flatMap((o) => variants(o, depth + 1));
    case 'intersection':
      return [d.left, d.right].flatMap((o) => (o ? variants(o, depth + 1) : []));
    default:
      return [s];
  }
}

/** The keys an object at `path` (a zod issue path) may have, per the schema; empty when unknown. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current = variants(schema);
  for (const seg of path) {
    const next: z.ZodType[] = [];
    for (const s of current) {
      const d = def(s);
      if (d.type === 'object' && typeof seg === 'string' && d.shape?.[seg]) next.push(d.shape[seg]);
      else if (d.type === 'array' && typeof seg === 'number' && d.element) next.push(d.element);
      else if (d.type === 'record' && typeof seg === 'string' && d.valueType) next.push(d.valueType);
    }
    current = next.flatMap((s) => variants(s));
    if (current.length === 0) return [];
  }
  const keys = new Set<string>();
  for (const s of current) {
    const d = def(s);
    if (d.type === 'object' && d.shape) for (const k of Object.keys(d.shape)) keys.add(k);
  }
  return [...keys];
}

/** Levenshtein edit distance (insertions, deletions, substitutions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = row;
  }
  return prev[y.length] as number;
}

/**
 * The allowed key closest to a mistyped one, when it is close enough to be a typo: at most a
 * third of the key's length in edits (at least one), or the same key in another case or with
 * `-` for `_`.
 */
export function closestKey(key: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');
  const exactish = allowed.find((k) => norm(k) === norm(key));
  if (exactish) return exactish;
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const k of allowed) {
    const d = editDistance(key, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}
