/** A `${VAR}` reference that could not be resolved, with the key path where it appeared. */
export interface EnvIssue {
  readonly path: string;
  readonly message: string;
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree (`$$` is a literal
 * `$`). Keys are not substituted. A missing variable without default is reported with its path.
 */
export function substituteEnv(node: unknown, env: NodeJS.ProcessEnv, issues: EnvIssue[], path = ''): unknown {
  if (typeof node === 'string') {
    if (!node.includes('$')) return node;
    return node.replace(REF, (m, name: string | undefined, def: string | undefined) => {
      if (m === '$$') return '$';
      const v = env[name as string];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      issues.push({
        path: path || '(root)',
        message: `environment variable ${name} is not set (referenced as ${m})`,
      });
      return '';
    });
  }
  if (Array.isArray(node)) return node.map((v, i) => substituteEnv(v, env, issues, `${path}[${i}]`));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node))
      out[k] = substituteEnv(v, env, issues, path ? `${path}.${k}` : k);
    return out;
  }
  return node;
}
