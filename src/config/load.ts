import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type GatehouseConfig } from './schema.js';
import { substituteEnv, type EnvIssue } from './env.js';

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

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_type':
      return issue.input === undefined ? `required (${issue.expected})` : `expected ${issue.expected}`;
    case 'invalid_union': {
      const first = issue.errors.flat()[0];
      return first ? describeIssue(first) : 'invalid value';
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

/**
 * Validates an already-parsed config document (after env substitution). Returns the typed config
 * or throws {@link ConfigError} listing every problem.
 */
export function validateConfig(doc: unknown, file?: string, pre: readonly EnvIssue[] = []): GatehouseConfig {
  const problems: ConfigProblem[] = pre.map((p) => ({ ...p, severity: 'error' as const }));
  const r = configSchema.safeParse(doc ?? {});
  if (!r.success) {
    for (const issue of r.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys)
          problems.push({ path: formatPath([...issue.path, k]), message: 'unknown key', severity: 'error' });
      } else {
        problems.push({ path: formatPath(issue.path), message: describeIssue(issue), severity: 'error' });
      }
    }
  }
  if (problems.length || !r.success) throw new ConfigError(problems, file);
  return r.data;
}

/** A loaded config with where it came from. */
export interface LoadedConfig {
  readonly config: GatehouseConfig;
  readonly file: string | undefined;
  readonly baseDir: string;
}

/** Parses YAML text, substitutes `${VAR}` from `env`, validates. Throws {@link ConfigError}. */
export function parseConfig(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  file?: string,
): GatehouseConfig {
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
  const substituted = substituteEnv(doc.toJS({ maxAliasCount: 100 }), env, envIssues);
  return validateConfig(substituted, file, envIssues);
}

/** Reads and validates a YAML config file. Throws {@link ConfigError}. */
export async function loadConfigFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
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
  return { config: parseConfig(text, env, file), file, baseDir: dirname(file) };
}
