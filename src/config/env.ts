import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * A `${VAR}` or `${file:PATH}` reference that could not be resolved. Reported once per variable
 * or file: `path` is the first key path that uses it, `paths` every one of them (schema errors
 * at those paths are follow-on errors and are not reported again).
 */
export interface EnvIssue {
  readonly path: string;
  readonly message: string;
  readonly paths?: readonly string[];
}

/** Options for {@link substituteEnv}. */
export interface SubstituteOptions {
  /** Directory that relative `${file:…}` paths are resolved against (the config file's). */
  readonly baseDir?: string;
  /** Reads a secret file (tests and `validate` of docs may supply their own). */
  readonly readFile?: (absolutePath: string) => string;
}

/** Secret files larger than this are refused: a secret is a line, not a document. */
const MAX_SECRET_FILE = 64 * 1024;

const REF = /\$\{file:([^}]+)\}|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$/g;

interface Pending {
  message: string;
  paths: string[];
}

function readSecretFile(file: string): string {
  const buf = readFileSync(file);
  if (buf.length > MAX_SECRET_FILE) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
  return buf.toString('utf8');
}

/**
 * Replaces `${VAR}`, `${VAR:-default}` and `${file:PATH}` in every string of a parsed YAML tree
 * (`$$` is a literal `$`). Keys are not substituted. `${file:PATH}` is the content of the file
 * (Docker/Kubernetes secrets, a Windows secret store export) without its trailing newline;
 * relative paths are resolved against `opts.baseDir`. A missing variable without default, or an
 * unreadable or empty file, is reported once, at the first key path that uses it.
 */
export function substituteEnv(
  node: unknown,
  env: NodeJS.ProcessEnv,
  issues: EnvIssue[],
  opts: SubstituteOptions = {},
): unknown {
  const pending = new Map<string, Pending>();
  const read = opts.readFile ?? readSecretFile;
  const fail = (key: string, path: string, message: string) => {
    const p = pending.get(key);
    if (p) p.paths.push(path);
    else pending.set(key, { message, paths: [path] });
  };
  const fromFile = (spec: string, ref: string, path: string): string => {
    const file = isAbsolute(spec) ? spec : resolve(opts.baseDir ?? process.cwd(), spec);
    let text: string;
    try {
      text = read(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      fail(`file:${file}`, path, `cannot read secret file ${file} (referenced as ${ref}): ${code}`);
      return '';
    }
    const value = text.replace(/[\r\n]+$/, '');
    if (value === '') fail(`file:${file}`, path, `secret file ${file} is empty (referenced as ${ref})`);
    return value;
  };
  const walk = (n: unknown, path: string): unknown => {
    if (typeof n === 'string') {
      if (!n.includes('$')) return n;
      const where = path || '(root)';
      return n.replace(
        REF,
        (m, file: string | undefined, name: string | undefined, def: string | undefined) => {
          if (m === '$$') return '$';
          if (file !== undefined) return fromFile(file.trim(), m, where);
          const v = env[name as string];
          if (v !== undefined && v !== '') return v;
          if (def !== undefined) return def;
          fail(`env:${name}`, where, `environment variable ${name} is not set (referenced as ${m})`);
          return '';
        },
      );
    }
    if (Array.isArray(n)) return n.map((v, i) => walk(v, `${path}[${i}]`));
    if (n !== null && typeof n === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(n)) out[k] = walk(v, path ? `${path}.${k}` : k);
      return out;
    }
    return n;
  };
  const result = walk(node, '');
  for (const { message, paths } of pending.values()) {
    const others = paths.slice(1);
    issues.push({
      path: paths[0] as string,
      message: others.length ? `${message}; also used at ${others.join(', ')}` : message,
      paths,
    });
  }
  return result;
}
