import type { Principal } from '../pipeline/principal.js';
import type { ValueEncoding } from './encode.js';

/** A placeholder's value: a scalar, a list (joined with the route's separator) or nothing. */
export type PlaceholderValue = string | readonly string[] | undefined;

type Getter = (p: Principal) => PlaceholderValue;

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** Placeholders that read a principal field. `{claims.a.b}` and `{claim:exact.key}` read claims. */
const FIELDS: Readonly<Record<string, Getter>> = {
  sub: (p) => nonEmpty(p.subject),
  subject: (p) => nonEmpty(p.subject),
  email: (p) => nonEmpty(p.email),
  name: (p) => nonEmpty(p.name),
  groups: (p) => p.groups,
  roles: (p) => p.roles,
  scopes: (p) => p.scopes,
  tenant: (p) => nonEmpty(p.tenant),
  client_id: (p) => nonEmpty(p.clientId),
  issuer: (p) => nonEmpty(p.issuer),
  provider: (p) => nonEmpty(p.provider),
  method: (p) => p.method,
  kind: (p) => p.kind,
};

/** Names accepted inside `{…}`, for messages. */
export const PLACEHOLDER_NAMES: readonly string[] = [...Object.keys(FIELDS), 'claims.<path>', 'claim:<name>'];

function stringifyScalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** Converts a claim value: arrays become lists, objects JSON, `null`/missing nothing. */
export function claimValue(v: unknown): PlaceholderValue {
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const item of v) {
      const s = stringifyScalar(item);
      if (s !== undefined) out.push(s);
    }
    return out;
  }
  return nonEmpty(stringifyScalar(v));
}

function claimGetter(path: readonly string[]): Getter {
  if (path.length === 1) {
    const k = path[0] as string;
    return (p) => (Object.hasOwn(p.claims, k) ? claimValue(p.claims[k]) : undefined);
  }
  return (p) => {
    let cur: unknown = p.claims;
    for (const k of path) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, k))
        return undefined;
      cur = (cur as Record<string, unknown>)[k];
    }
    return claimValue(cur);
  };
}

/** Resolves a placeholder expression (the text between braces) to a getter, or an error message. */
export function placeholderGetter(expr: string): Getter | string {
  const field = FIELDS[expr];
  if (field && Object.hasOwn(FIELDS, expr)) return field;
  if (expr.startsWith('claim:') && expr.length > 6) return claimGetter([expr.slice(6)]);
  if (expr.startsWith('claims.')) {
    const path = expr.slice(7).split('.');
    if (path.every((s) => s !== '')) return claimGetter(path);
  }
  return `unknown placeholder {${expr}}: expected one of ${PLACEHOLDER_NAMES.map((n) => `{${n}}`).join(', ')}`;
}

type Part = string | Getter;

/** A header value template compiled at load: renders a principal to a wire-safe value. */
export type CompiledTemplate = (p: Principal) => string | undefined;

/**
 * Compiles `"{sub}"`, `"tenant-{claims.tid}"`, `"{groups}"`… once at load. `{{` and `}}` are
 * literal braces. Literal text must be printable ASCII. At request time a template whose
 * placeholder has no value (missing claim, empty list) renders `undefined`: the header is
 * omitted rather than sent half-filled. Returns an error message on invalid templates.
 */
export function compileTemplate(
  template: string,
  enc: ValueEncoding,
  separator: string,
): CompiledTemplate | string {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    const code = template.charCodeAt(i);
    if (code < 0x20 || code > 0x7e)
      return `literal text must be printable ASCII (found U+${code.toString(16).padStart(4, '0')})`;
    if ((ch === '{' || ch === '}') && template[i + 1] === ch) {
      lit += ch;
      i++;
    } else if (ch === '}') return 'unbalanced "}" (write "}}" for a literal brace)';
    else if (ch === '{') {
      const end = template.indexOf('}', i + 1);
      if (end < 0) return 'unclosed "{"';
      const g = placeholderGetter(template.slice(i + 1, end).trim());
      if (typeof g === 'string') return g;
      if (lit !== '') {
        parts.push(lit);
        lit = '';
      }
      parts.push(g);
      i = end;
    } else lit += ch;
  }
  if (lit !== '') parts.push(lit);

  const render = (g: Getter, p: Principal): string | undefined => {
    const v = g(p);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return enc.scalar(v);
    return v.length === 0 ? undefined : enc.list(v, separator);
  };
  if (parts.length === 1 && typeof parts[0] === 'function') {
    const g = parts[0];
    return (p) => {
      const v = render(g, p);
      return v === undefined ? undefined : enc.whole(v);
    };
  }
  return (p) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else {
        const v = render(part, p);
        if (v === undefined) return undefined;
        out += v;
      }
    }
    return enc.whole(out);
  };
}
