/**
 * A tiny template language that is HTML-escaped by construction:
 *
 * - `{{name}}` inserts a variable, always HTML-escaped — unless the value is a {@link SafeHtml}
 *   that Gatehouse built itself; there is no syntax for raw interpolation;
 * - `{{#if name}} … {{else}} … {{/if}}` keeps a block when the variable is set (a non-empty
 *   string, a number, `true`, a non-empty list);
 * - `{{#each name}} … {{/each}}` repeats a block for every item of a list variable; inside, an
 *   item's fields are looked up first, then the page's variables;
 * - `{{! comment }}` is dropped.
 *
 * Templates are parsed once ({@link compileTemplate}); rendering walks the parsed nodes.
 */

/** HTML that Gatehouse built itself (never from a request or a claim): inserted as is. */
export class SafeHtml {
  /** Wraps markup Gatehouse built; never call with text that came from a request or a token. */
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** A value a template can use. */
export type TemplateValue =
  | string
  | number
  | boolean
  | undefined
  | SafeHtml
  | readonly Readonly<Record<string, string | number | boolean | undefined | SafeHtml>>[];

/** The variables of one render. */
export type TemplateVars = Readonly<Record<string, TemplateValue>>;

/** What a template may use: scalar variables and list variables with their item fields. */
export interface TemplateSpec {
  readonly vars: readonly string[];
  readonly lists?: Readonly<Record<string, readonly string[]>>;
}

/** A syntax error or unknown variable, with the 1-based line of the template. */
export class TemplateError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'TemplateError';
  }
}

type Node =
  | { readonly t: 'text'; readonly s: string }
  | { readonly t: 'var'; readonly name: string }
  | { readonly t: 'if'; readonly name: string; readonly then: Node[]; readonly else: Node[] }
  | { readonly t: 'each'; readonly name: string; readonly body: Node[] };

/** A parsed template: render it as often as needed. */
export interface CompiledTemplate {
  render(vars: TemplateVars): string;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

const NAME = /^[a-z_][a-z0-9_]*$/;
const TAG = /^(#if|#each|\/if|\/each|else|!)?\s*([\s\S]*?)\s*$/;

interface Frame {
  readonly kind: 'root' | 'if' | 'each';
  readonly name: string;
  readonly line: number;
  nodes: Node[];
  readonly node?: Extract<Node, { t: 'if' | 'each' }>;
  inElse?: boolean;
  /** Item fields visible inside an `each` block. */
  readonly fields?: readonly string[];
}

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/**
 * Parses `text` into a template that may use only the variables of `spec`. Throws a
 * {@link TemplateError} naming the line on unbalanced blocks, unknown tags or variables.
 */
export function compileTemplate(text: string, spec: TemplateSpec): CompiledTemplate {
  const scalars = new Set(spec.vars);
  const lists = spec.lists ?? {};
  const root: Frame = { kind: 'root', name: '', line: 1, nodes: [] };
  const stack: Frame[] = [root];
  const top = () => stack[stack.length - 1] as Frame;
  const known = (name: string, line: number, list: boolean): void => {
    if (!NAME.test(name)) throw new TemplateError(line, `"${name}" is not a variable name`);
    const inItem = stack.some((f) => f.fields?.includes(name));
    if (list ? name in lists : scalars.has(name) || name in lists || inItem) return;
    const all = [...scalars, ...Object.keys(lists), ...stack.flatMap((f) => f.fields ?? [])];
    throw new TemplateError(
      line,
      `unknown ${list ? 'list ' : ''}variable "${name}"; this template can use: ${all.join(', ')}`,
    );
  };
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    if (open === -1) {
      top().nodes.push({ t: 'text', s: text.slice(pos) });
      break;
    }
    if (open > pos) top().nodes.push({ t: 'text', s: text.slice(pos, open) });
    const line = lineAt(text, open);
    const close = text.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError(line, '"{{" without a closing "}}"');
    const inner = text.slice(open + 2, close);
    if (inner.startsWith('{')) throw new TemplateError(line, 'raw "{{{…}}}" output is not supported');
    const m = TAG.exec(inner) as RegExpExecArray;
    const tag = m[1];
    const arg = m[2] as string;
    pos = close + 2;
    switch (tag) {
      case '!':
        break;
      case undefined:
        known(arg, line, false);
        top().nodes.push({ t: 'var', name: arg });
        break;
      case '#if': {
        known(arg, line, false);
        const node = { t: 'if' as const, name: arg, then: [] as Node[], else: [] as Node[] };
        top().nodes.push(node);
        stack.push({ kind: 'if', name: arg, line, nodes: node.then, node });
        break;
      }
      case '#each': {
        known(arg, line, true);
        const node = { t: 'each' as const, name: arg, body: [] as Node[] };
        top().nodes.push(node);
        stack.push({ kind: 'each', name: arg, line, nodes: node.body, node, fields: lists[arg] });
        break;
      }
      case 'else': {
        const f = top();
        if (f.kind !== 'if' || f.inElse || arg !== '')
          throw new TemplateError(line, '"{{else}}" outside an {{#if}} block');
        f.inElse = true;
        f.nodes = (f.node as Extract<Node, { t: 'if' }>).else;
        break;
      }
      default: {
        const kind = tag === '/if' ? 'if' : 'each';
        const f = top();
        if (f.kind !== kind) {
          throw new TemplateError(
            line,
            f.kind === 'root'
              ? `"{{${tag}}}" without an opening {{#${kind}}}`
              : `"{{${tag}}}" closes {{#${f.kind} ${f.name}}} opened on line ${f.line}`,
          );
        }
        stack.pop();
      }
    }
  }
  if (stack.length > 1) {
    const f = top();
    throw new TemplateError(f.line, `{{#${f.kind} ${f.name}}} is never closed`);
  }
  const nodes = root.nodes;
  return { render: (vars) => renderNodes(nodes, [vars]) };
}

type Scope = Readonly<Record<string, unknown>>;

function lookup(scopes: readonly Scope[], name: string): unknown {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const s = scopes[i] as Scope;
    if (Object.hasOwn(s, name)) return s[name];
  }
  return undefined;
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== null && v !== false && v !== '';
}

function renderNodes(nodes: readonly Node[], scopes: readonly Scope[]): string {
  let out = '';
  for (const n of nodes) {
    switch (n.t) {
      case 'text':
        out += n.s;
        break;
      case 'var': {
        const v = lookup(scopes, n.name);
        if (v instanceof SafeHtml) out += v.html;
        else if (v !== undefined && v !== null && typeof v !== 'object') out += escapeHtml(String(v));
        break;
      }
      case 'if':
        out += renderNodes(truthy(lookup(scopes, n.name)) ? n.then : n.else, scopes);
        break;
      case 'each': {
        const list = lookup(scopes, n.name);
        if (Array.isArray(list))
          for (const item of list) out += renderNodes(n.body, [...scopes, item as Scope]);
        break;
      }
    }
  }
  return out;
}
