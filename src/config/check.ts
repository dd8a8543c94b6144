import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { compileState, type RuntimeState } from './compile.js';
import {
  ConfigError,
  parseDocumentText,
  readConfigText,
  schemaProblems,
  type ConfigProblem,
} from './load.js';
import type { EnvIssue, SubstituteOptions } from './env.js';
import type { GatehouseConfig } from './schema.js';

/** The outcome of {@link checkConfigText}: every problem, schema and semantic, in one list. */
export interface CheckResult {
  readonly file: string | undefined;
  /** Errors and warnings, schema problems first. */
  readonly problems: readonly ConfigProblem[];
  /** Number of compiled routes when the config is valid. */
  readonly routes?: number;
}

/** A route that compiles without any problem, standing in for one the schema refused. */
function placeholderRoute(i: number): Record<string, unknown> {
  return {
    name: `__gatehouse_invalid_${i}`,
    match: { path: `/__gatehouse_invalid_${i}`, path_type: 'exact' },
    upstream: { url: PLACEHOLDER_URL },
    auth: 'none',
  };
}

const PLACEHOLDER_URL = 'http://127.0.0.1:9';

/** 48 characters: long enough for every secret key. */
const UNRESOLVED = 'unresolved-reference-placeholder-0123456789abcde';

const clone = (v: unknown): unknown => structuredClone(v);

/**
 * A copy of `doc` in which every value the schema refused is removed (so its default applies) or,
 * for a route, replaced by a placeholder — so that the semantic checks of compilation can run on
 * the rest. Returns undefined when the document cannot be repaired without shifting list indexes
 * (semantic problems would then carry wrong paths).
 */
function repair(doc: unknown, pre: readonly EnvIssue[]): GatehouseConfig | undefined {
  let current = clone(doc ?? {}) as Record<string, unknown>;
  // A value whose `${…}` could not be resolved stands in as a plausible secret: the reference is
  // reported already, and what uses the value should still be checked.
  for (const path of pre.flatMap((p) => p.paths ?? [p.path])) {
    const keys = parsePath(path);
    const last = keys?.pop();
    const parent = keys?.reduce<unknown>(
      (n, k) =>
        n !== null && typeof n === 'object' ? (n as Record<string, unknown>)[k as string] : undefined,
      current,
    );
    if (last !== undefined && parent !== null && typeof parent === 'object')
      (parent as Record<string, unknown>)[last as string] = UNRESOLVED;
  }
  const touched = new Set<number>();
  for (let round = 0; round < 8; round++) {
    const { problems, data } = schemaProblems(current);
    if (data) return data;
    let changed = false;
    const again = new Set<number>();
    for (const p of problems) {
      const path = parsePath(p.path);
      if (!path) return undefined;
      // Remove the offending value (or, when it is missing, its parent) so its default applies.
      const target = /^required/.test(p.message) ? path.slice(0, -1) : path;
      const route = path[0] === 'routes' && typeof path[1] === 'number' ? path[1] : undefined;
      const last = target[target.length - 1];
      if (route !== undefined && (touched.has(route) || target.length <= 2 || typeof last === 'number')) {
        // A route that still fails after its bad values were removed gives way to a placeholder.
        const routes = current.routes as unknown[];
        if (!Array.isArray(routes) || routes[route] === undefined) return undefined;
        const ph = placeholderRoute(route);
        if (JSON.stringify(routes[route]) !== JSON.stringify(ph)) {
          routes[route] = ph;
          changed = true;
        }
        continue;
      }
      if (route !== undefined) again.add(route);
      if (target.length === 0) return undefined;
      if (typeof last === 'number') {
        // A list item other than a route: drop the whole list (its default applies) rather
        // than shift the indexes of the items after it.
        target.pop();
        if (target.length === 0 || typeof target[target.length - 1] === 'number') return undefined;
      }
      const parent = target
        .slice(0, -1)
        .reduce<unknown>(
          (n, k) =>
            n !== null && typeof n === 'object' ? (n as Record<string, unknown>)[k as string] : undefined,
          current,
        );
      if (parent === null || typeof parent !== 'object' || Array.isArray(parent)) return undefined;
      const key = target[target.length - 1] as string;
      const obj = parent as Record<string, unknown>;
      if (key === 'url' && obj[key] !== PLACEHOLDER_URL) {
        // An upstream keeps its name (routes still refer to it) with a stand-in URL.
        obj[key] = PLACEHOLDER_URL;
        changed = true;
      } else if (key !== 'url' && key in obj) {
        delete obj[key];
        changed = true;
      }
    }
    for (const r of again) touched.add(r);
    if (!changed) return undefined;
    current = clone(current) as Record<string, unknown>;
  }
  return undefined;
}

/** `routes[2].match.path` → `['routes', 2, 'match', 'path']`; undefined for `line 3:1` & co. */
function parsePath(p: string): (string | number)[] | undefined {
  if (p === '(root)') return [];
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(p))) out.push(m[2] !== undefined ? Number(m[2]) : (m[1] as string));
  return out.length ? out : undefined;
}

/** True when `p` is `q`, inside `q`, or contains `q` (so one is a follow-on of the other). */
function related(p: string, q: string): boolean {
  const inside = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  return inside(p, q) || inside(q, p);
}

/**
 * Validates YAML text the way `gatehouse validate` does: schema, then compilation in dry-run
 * mode (no network, no files written). When the schema refuses some values, compilation still
 * runs on the rest so semantic problems (an unknown upstream, a rule on a public route…) are
 * reported in the same pass; problems that follow from a refused value are left out.
 */
export async function checkConfigText(
  text: string,
  opts: { env?: NodeJS.ProcessEnv; file?: string; baseDir?: string; logger: Logger } & SubstituteOptions,
): Promise<CheckResult> {
  const file = opts.file;
  const baseDir = opts.baseDir ?? (file ? dirname(file) : process.cwd());
  let sub;
  try {
    sub = parseDocumentText(text, opts.env ?? process.env, file, { baseDir, readFile: opts.readFile });
  } catch (e) {
    if (e instanceof ConfigError) return { file, problems: e.problems };
    throw e;
  }
  const { problems, data } = schemaProblems(sub.doc, sub.envIssues);
  const config = data ?? repair(sub.doc, sub.envIssues);
  if (!config) return { file, problems };
  let state: RuntimeState | undefined;
  try {
    state = compileState(config, { logger: opts.logger, baseDir, dryRun: true });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const extra = e.problems.filter((p) => !problems.some((q) => related(p.path, q.path)));
    return { file, problems: [...problems, ...extra] };
  } finally {
    await state?.close();
  }
  const warnings = state.warnings.filter((w) => !problems.some((q) => related(w.path, q.path)));
  if (problems.length) return { file, problems: [...problems, ...warnings] };
  return { file, problems: warnings, routes: state.routes.length };
}

/** {@link checkConfigText} on a file; an unreadable file is one problem. */
export async function checkConfigFile(
  path: string,
  opts: { env?: NodeJS.ProcessEnv; logger: Logger },
): Promise<CheckResult> {
  try {
    const { file, text } = await readConfigText(path);
    return await checkConfigText(text, { ...opts, file });
  } catch (e) {
    if (e instanceof ConfigError) return { file: e.file, problems: e.problems };
    throw e;
  }
}
