import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type GatehouseConfig } from './schema.js';
import { substituteEnv, type EnvIssue, type SubstituteOptions } from './env.js';
import { closestKey, keysAt } from './suggest.js';

/** One configuration problem with the exact key path, e.g. `routes[2].upstream.url`. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** Thrown when a configuration is invalid; carries every problem found, not just the first. */
export class ConfigError extends Error {
  readonly code = 'GH_CONFIG_INVALID';
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly file?: string,
  ) {
    const errors = problems.filter((p) => p.severity === 'error');
    super(
      `${file ? `${file}: ` : ''}${errors.length} configuration error${errors.length === 1 ? '' : 's'}:\n` +
        errors.map((p) => `  ${p.path}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Formats a zod issue path as `routes[2].upstream.url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

const ARTICLE: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  array: 'a list',
  literal: 'a literal',
};

/** What a value is, in the words of a YAML author: string, number, list, mapping, null. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

/** A union branch's issue about the value itself (its type, or not one of the allowed values). */
function refusesValueItself(
  e: z.core.$ZodIssue,
): e is z.core.$ZodIssueInvalidType | z.core.$ZodIssueInvalidValue {
  return e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'invalid_value');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_type': {
      const expected = ARTICLE[issue.expected] ?? issue.expected;
      return issue.input === undefined
        ? `required (expected ${expected})`
        : `expected ${expected}, got ${kindOf(issue.input)}`;
    }
    case 'invalid_union': {
      const all = issue.errors.flat();
      // Every branch refused the value itself (`true` where a mapping or `false` is expected):
      // name every alternative.
      if (all.length > 1 && all.every(refusesValueItself)) {
        const alternatives = all.map((e) =>
          e.code === 'invalid_type'
            ? (ARTICLE[e.expected] ?? e.expected)
            : e.values.map((v) => JSON.stringify(v)).join(' or '),
        );
        const v = issue.input;
        const got = typeof v === 'boolean' || typeof v === 'number' ? String(v) : kindOf(v);
        return `expected ${[...new Set(alternatives)].join(' or ')}, got ${got}`;
      }
      // Otherwise the branch that got furthest explains best: prefer a non-type issue (e.g. a bad
      // duration string) over "expected a mapping" from the other branches.
      const first = all.find((e) => e.code !== 'invalid_type') ?? all[0];
      return first ? describeIssue(first) : 'invalid value';
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

function unknownKey(path: readonly PropertyKey[], key: string): string {
  const hint = closestKey(key, keysAt(configSchema, path));
  return hint ? `unknown key "${key}"; did you mean "${hint}"?` : `unknown key "${key}"`;
}

/**
 * The schema problems of a document, each with its key path. Problems at a path whose value came
 * from an unresolved `${VAR}` / `${file:…}` are left out: the reference is the problem.
 */
export function schemaProblems(
  doc: unknown,
  pre: readonly EnvIssue[] = [],
): { problems: ConfigProblem[]; data?: GatehouseConfig } {
  const problems: ConfigProblem[] = pre.map((p) => ({ path: p.path, message: p.message, severity: 'error' }));
  const unresolved = new Set(pre.flatMap((p) => p.paths ?? [p.path]));
  const r = configSchema.safeParse(doc ?? {}, { reportInput: true });
  if (r.success) return { problems, data: r.data };
  for (const issue of r.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys)
        problems.push({
          path: formatPath([...issue.path, k]),
          message: unknownKey(issue.path, k),
          severity: 'error',
        });
    } else {
      const path = formatPath(issue.path);
      if (!unresolved.has(path)) problems.push({ path, message: describeIssue(issue), severity: 'error' });
    }
  }
  return { problems };
}

/**
 * Validates an already-parsed config document (after env substitution). Returns the typed config
 * or throws {@link ConfigError} listing every problem.
 */
export function validateConfig(doc: unknown, file?: string, pre: readonly EnvIssue[] = []): GatehouseConfig {
  const { problems, data } = schemaProblems(doc, pre);
  if (problems.length || !data) throw new ConfigError(problems, file);
  return data;
}

/** A loaded config with where it came from. */
export interface LoadedConfig {
  readonly config: GatehouseConfig;
  readonly file: string | undefined;
  readonly baseDir: string;
}

/** A YAML document after `${…}` substitution, with the references that could not be resolved. */
export interface SubstitutedDocument {
  readonly doc: unknown;
  readonly envIssues: readonly EnvIssue[];
}

/**
 * Parses YAML text and substitutes `${VAR}` from `env` and `${file:PATH}` (relative to the
 * config file's directory). Throws {@link ConfigError} on YAML syntax errors.
 */
export function parseDocumentText(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  file?: string,
  opts: SubstituteOptions = {},
): SubstitutedDocument {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}:${e.linePos[0].col}` : '(yaml)',
        message: e.message.split('\n')[0] ?? 'YAML syntax error',
        severity: 'error' as const,
      })),
      file,
    );
  }
  const envIssues: EnvIssue[] = [];
  const baseDir = opts.baseDir ?? (file ? dirname(file) : undefined);
  const substituted = substituteEnv(doc.toJS({ maxAliasCount: 100 }), env, envIssues, { ...opts, baseDir });
  return { doc: substituted, envIssues };
}

/** Parses YAML text, substitutes `${VAR}` / `${file:…}`, validates. Throws {@link ConfigError}. */
export function parseConfig(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  file?: string,
  opts: SubstituteOptions = {},
): GatehouseConfig {
  const { doc, envIssues } = parseDocumentText(text, env, file, opts);
  return validateConfig(doc, file, envIssues);
}

/** Reads a config file's text; an unreadable file is a {@link ConfigError}. */
export async function readConfigText(path: string): Promise<{ file: string; text: string }> {
  const file = resolve(path);
  try {
    return { file, text: await readFile(file, 'utf8') };
  } catch (e) {
    throw new ConfigError(
      [
        {
          path: '(file)',
          message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
          severity: 'error',
        },
      ],
      file,
    );
  }
}

/** Reads and validates a YAML config file. Throws {@link ConfigError}. */
export async function loadConfigFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  const { file, text } = await readConfigText(path);
  return { config: parseConfig(text, env, file), file, baseDir: dirname(file) };
}
