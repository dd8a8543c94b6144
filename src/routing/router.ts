import { normalizeTarget } from '../http/normalize.js';
import { iisProblem } from './iis.js';

/** One route as the router sees it. `index` is the config order (lower wins ties). */
export interface RouteEntry<R> {
  readonly route: R;
  /** Exact (`app.example.com`), wildcard (`*.example.com`) or `*`; undefined/empty = any host. */
  readonly hosts: readonly string[] | undefined;
  /** Normalised path (see {@link routePathProblem}); a trailing slash is not significant. */
  readonly path: string;
  readonly pathType: 'prefix' | 'exact';
  /** Allowed methods (upper-case); undefined = all. */
  readonly methods: ReadonlySet<string> | undefined;
  readonly caseInsensitive: boolean;
  readonly index: number;
}

/** Outcome of {@link Router.match}. Results are shared frozen objects: do not mutate. */
export type MatchResult<R> =
  | { readonly route: R }
  | { readonly error: 'GH_ROUTE_NOT_FOUND' }
  | { readonly error: 'GH_METHOD_NOT_ALLOWED'; readonly allow: readonly string[] }
  | { readonly error: 'GH_PATH_AMBIGUOUS'; readonly detail: string };

interface Item<R> {
  readonly methods: ReadonlySet<string> | undefined;
  readonly index: number;
  readonly hit: { readonly route: R };
}

interface TrieNode<R> {
  children: Map<string, TrieNode<R>> | undefined;
  exact: Item<R>[];
  prefix: Item<R>[];
}

interface Bucket<R> {
  readonly cs: TrieNode<R>;
  readonly ci: TrieNode<R>;
  hasCi: boolean;
}

const NOT_FOUND = Object.freeze({ error: 'GH_ROUTE_NOT_FOUND' as const });
const newNode = <R>(): TrieNode<R> => ({ children: undefined, exact: [], prefix: [] });
const newBucket = <R>(): Bucket<R> => ({ cs: newNode(), ci: newNode(), hasCi: false });

/**
 * The first item of `x` ∪ `y` (each sorted by config index) allowing `method`; otherwise true
 * when there were items, false when both lists were empty.
 */
function firstAllowed<R>(
  x: Item<R>[] | undefined,
  y: Item<R>[] | undefined,
  method: string,
): Item<R> | boolean {
  const xl = x?.length ?? 0;
  const yl = y?.length ?? 0;
  let i = 0;
  let j = 0;
  while (i < xl || j < yl) {
    const a = x?.[i];
    const c = y?.[j];
    const it = a !== undefined && (c === undefined || a.index < c.index) ? (i++, a) : (j++, c);
    if (it !== undefined && (it.methods === undefined || it.methods.has(method))) return it;
  }
  return xl + yl > 0;
}

/**
 * Why `path` cannot be used as a route path (for config validation), or undefined. A route path
 * must start with `/` and already be in the form {@link normalizeTarget} produces; a
 * case-insensitive one must be ASCII (non-ASCII case variants would not be matched).
 */
export function routePathProblem(path: string, caseInsensitive = false): string | undefined {
  if (!path.startsWith('/')) return 'expected a path starting with "/"';
  if (caseInsensitive && /%[89a-f]/i.test(path)) return 'a case-insensitive route path must be ASCII';
  if (path.includes('?') || path.includes('#')) return 'a route path cannot contain "?" or "#"';
  try {
    const n = normalizeTarget(path, '').path;
    if (n !== path) return `not a normalised path: use ${JSON.stringify(n)}`;
  } catch (e) {
    return `not a valid path: ${(e as { detail?: string }).detail ?? String(e)}`;
  }
  return undefined;
}

const HOST_LABELS = /^(\*\.)?([a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\.?$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/**
 * Why `host` cannot be used as a route host (for config validation), or undefined. Accepted:
 * `*`, a DNS name or IPv4 address, `*.` followed by a DNS name, or a bracketed IPv6 literal;
 * no port (routes match the Host header without its port).
 */
export function routeHostProblem(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  if (h === '*') return undefined;
  if (h.includes(':') && !h.startsWith('[')) return 'a route host cannot carry a port';
  if (IPV6.test(h) || HOST_LABELS.test(h)) return undefined;
  return 'expected a host name such as "app.example.com", a wildcard such as "*.example.com", or "*"';
}

/**
 * Host- and path-based route lookup, compiled once into per-host segment tries so a lookup
 * costs O(path segments) Map lookups whatever the number of routes. Immutable after construction.
 *
 * Selection, for a lower-case `host` without port (a trailing dot is ignored):
 * 1. Host tiers in order: the exact host, then matching `*.suffix` wildcards from the longest
 *    suffix to the shortest (a wildcard matches any depth of subdomain, never the apex), then
 *    routes without a host. A tier is consulted only when the previous tiers matched no path
 *    at all; a tier whose paths match but whose methods do not answers 405 and does not fall
 *    through (a host-specific route is never bypassed by a generic one).
 * 2. Within a tier, candidates from the most specific: longest matching path in segments;
 *    at equal length an exact route beats a prefix route; then config order. Prefix routes
 *    match on segment boundaries (`/app` matches `/app`, `/app/x`, not `/apple`); an exact
 *    route matches its path with or without a trailing slash (`/admin` and `/admin/` are one
 *    resource to most frameworks).
 * 3. The first candidate allowing `method` wins; some candidates but none allowing it →
 *    `GH_METHOD_NOT_ALLOWED` with the union of their methods (RFC 9110 §15.5.6 `Allow`).
 * Case-insensitive routes are matched against the lower-cased path. On a tier that has any
 * case-insensitive route, paths IIS would read differently ({@link iisProblem}) give
 * `GH_PATH_AMBIGUOUS`, whatever route they would match.
 */
export class Router<R> {
  readonly #exact = new Map<string, Bucket<R>>();
  readonly #wild = new Map<string, Bucket<R>>();
  readonly #any: Bucket<R> = newBucket();
  readonly #csStack: TrieNode<R>[] = [];
  readonly #ciStack: TrieNode<R>[] = [];
  #full = false;

  constructor(entries: readonly RouteEntry<R>[]) {
    const sorted = [...entries].sort((a, b) => a.index - b.index);
    for (const e of sorted) {
      const problem = routePathProblem(e.path, e.caseInsensitive);
      if (problem !== undefined)
        throw new Error(`route ${e.index} path ${JSON.stringify(e.path)}: ${problem}`);
      const item: Item<R> = { methods: e.methods, index: e.index, hit: Object.freeze({ route: e.route }) };
      const buckets = new Set<Bucket<R>>();
      for (const raw of e.hosts ?? []) buckets.add(this.#bucketFor(raw));
      if (buckets.size === 0) buckets.add(this.#any);
      for (const b of buckets) {
        let node = e.caseInsensitive ? b.ci : b.cs;
        b.hasCi ||= e.caseInsensitive;
        const p = e.caseInsensitive ? e.path.toLowerCase() : e.path;
        for (const seg of p.split('/')) {
          if (seg === '') continue;
          node.children ??= new Map();
          let next = node.children.get(seg);
          if (next === undefined) node.children.set(seg, (next = newNode()));
          node = next;
        }
        (e.pathType === 'exact' ? node.exact : node.prefix).push(item);
      }
    }
  }

  #bucketFor(raw: string): Bucket<R> {
    const problem = routeHostProblem(raw);
    if (problem !== undefined) throw new Error(`invalid route host ${JSON.stringify(raw)}: ${problem}`);
    let h = raw.trim().toLowerCase();
    if (h.endsWith('.')) h = h.slice(0, -1);
    if (h === '*' || h === '') return this.#any;
    const wild = h.startsWith('*.');
    if (wild) h = h.slice(2);
    const map = wild ? this.#wild : this.#exact;
    let b = map.get(h);
    if (b === undefined) map.set(h, (b = newBucket()));
    return b;
  }

  /** Finds the route for a normalised `path`; see the class documentation for precedence. */
  match(host: string, path: string, method: string): MatchResult<R> {
    if (host.charCodeAt(host.length - 1) === 0x2e) host = host.slice(0, -1);
    const exact = this.#exact.get(host);
    if (exact !== undefined) {
      const r = this.#tryBucket(exact, path, method);
      if (r !== undefined) return r;
    }
    if (this.#wild.size > 0) {
      for (let i = host.indexOf('.'); i !== -1; i = host.indexOf('.', i + 1)) {
        const b = this.#wild.get(host.slice(i + 1));
        const r = b === undefined ? undefined : this.#tryBucket(b, path, method);
        if (r !== undefined) return r;
      }
    }
    return this.#tryBucket(this.#any, path, method) ?? NOT_FOUND;
  }

  /** The result of one host tier, or undefined when no path in it matched. */
  #tryBucket(b: Bucket<R>, path: string, method: string): MatchResult<R> | undefined {
    const dCs = this.#walk(b.cs, path, this.#csStack);
    const fullCs = this.#full;
    let dCi = -1;
    let fullCi = false;
    if (b.hasCi) {
      const problem = iisProblem(path);
      if (problem !== undefined)
        return Object.freeze({ error: 'GH_PATH_AMBIGUOUS' as const, detail: problem });
      dCi = this.#walk(b.ci, path.toLowerCase(), this.#ciStack);
      fullCi = this.#full;
    }
    let seen = false;
    for (let d = Math.max(dCs, dCi); d >= 0; d--) {
      const cs = d <= dCs ? this.#csStack[d] : undefined;
      const ci = d <= dCi ? this.#ciStack[d] : undefined;
      if ((fullCs && d === dCs) || (fullCi && d === dCi)) {
        const r = firstAllowed(
          fullCs && d === dCs ? cs?.exact : undefined,
          fullCi && d === dCi ? ci?.exact : undefined,
          method,
        );
        if (typeof r === 'object') return r.hit;
        seen ||= r;
      }
      const r = firstAllowed(cs?.prefix, ci?.prefix, method);
      if (typeof r === 'object') return r.hit;
      seen ||= r;
    }
    return seen ? this.#methodNotAllowed(dCs, dCi, fullCs, fullCi) : undefined;
  }

  #methodNotAllowed(dCs: number, dCi: number, fullCs: boolean, fullCi: boolean): MatchResult<R> {
    const allow = new Set<string>();
    const add = (items: Item<R>[] | undefined) =>
      items?.forEach((it) => it.methods?.forEach((m) => allow.add(m)));
    for (let d = 0; d <= dCs; d++) add(this.#csStack[d]?.prefix);
    for (let d = 0; d <= dCi; d++) add(this.#ciStack[d]?.prefix);
    if (fullCs) add(this.#csStack[dCs]?.exact);
    if (fullCi) add(this.#ciStack[dCi]?.exact);
    return Object.freeze({
      error: 'GH_METHOD_NOT_ALLOWED' as const,
      allow: Object.freeze([...allow].sort()),
    });
  }

  /** Walks `p`'s segments down the trie; fills `stack[0..depth]`, sets #full when all were consumed. */
  #walk(root: TrieNode<R>, p: string, stack: TrieNode<R>[]): number {
    stack[0] = root;
    let node = root;
    let depth = 0;
    let i = 1;
    const n = p.length;
    while (i < n) {
      let j = p.indexOf('/', i);
      if (j === -1) j = n;
      const next = node.children?.get(p.slice(i, j));
      if (next === undefined) {
        this.#full = false;
        return depth;
      }
      stack[++depth] = node = next;
      i = j + 1;
    }
    this.#full = true;
    return depth;
  }
}
