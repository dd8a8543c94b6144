import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_CSS, DEFAULT_TEMPLATES, PAGE_NAMES, PAGE_SPECS, type PageName } from './catalogue.js';
import type { PagesConfig } from './schema.js';
import {
  SafeHtml,
  TemplateError,
  compileTemplate,
  escapeHtml,
  type CompiledTemplate,
  type TemplateVars,
} from './template.js';

/** Name of the runtime service holding the {@link PageSet} of the current configuration. */
export const PAGES_SERVICE = 'pages';

/** A problem with the `pages` section, with its config key path. */
export interface PagesProblem {
  readonly path: string;
  readonly message: string;
}

/** Where each page's template came from (for `validate` output and tests). */
export type PageSource = 'default' | string;

/**
 * The compiled pages of one configuration: built-in templates, or the operator's, with the
 * branding variables bound. Immutable; rebuilt on reload.
 */
export class PageSet {
  readonly #templates: ReadonlyMap<PageName, CompiledTemplate>;
  readonly #common: TemplateVars;
  /** The template file of each page, or `default`. */
  readonly sources: Readonly<Record<PageName, PageSource>>;

  constructor(
    templates: ReadonlyMap<PageName, CompiledTemplate>,
    common: TemplateVars,
    sources: Record<PageName, PageSource>,
  ) {
    this.#templates = templates;
    this.#common = common;
    this.sources = Object.freeze({ ...sources });
  }

  /**
   * Renders page `name` with `vars` (see `PAGE_SPECS` for each page's variables) plus the
   * branding variables. Every value is HTML-escaped unless it is a {@link SafeHtml}.
   */
  render(name: PageName, vars: TemplateVars): string {
    const t = this.#templates.get(name) as CompiledTemplate;
    return t.render({ ...this.#common, ...vars });
  }
}

function commonVars(title: string, logoUrl: string | undefined, css: string): TemplateVars {
  return { brand_title: title, logo_url: logoUrl, style: new SafeHtml(`<style>${css}</style>`) };
}

function compileDefaults(): Map<PageName, CompiledTemplate> {
  const m = new Map<PageName, CompiledTemplate>();
  for (const name of PAGE_NAMES) m.set(name, compileTemplate(DEFAULT_TEMPLATES[name], PAGE_SPECS[name]));
  return m;
}

/** The built-in pages with the default branding. */
export const defaultPages = new PageSet(
  compileDefaults(),
  commonVars('Gatehouse', undefined, DEFAULT_CSS),
  Object.fromEntries(PAGE_NAMES.map((n) => [n, 'default'])) as Record<PageName, PageSource>,
);

/**
 * Renders page `name` — the API the login, chooser and sign-out code calls. `pages` is the
 * runtime's {@link PageSet} (service {@link PAGES_SERVICE}); without it the built-in pages.
 */
export function renderPage(name: PageName, vars: TemplateVars, pages: PageSet = defaultPages): string {
  return pages.render(name, vars);
}

function readText(path: string, keyPath: string, problems: PagesProblem[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    problems.push({ path: keyPath, message: `cannot read file ${path}: ${code}` });
    return undefined;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads and compiles the `pages` section once (config load): operator templates from
 * `templates.<name>` or `templates_dir/<name>.html`, the CSS file and branding. Problems name
 * the key path (and the template line for syntax errors); the set is undefined when any.
 */
export function loadPages(
  cfg: PagesConfig | undefined,
  baseDir: string,
): { pages: PageSet | undefined; problems: PagesProblem[] } {
  if (cfg === undefined) return { pages: defaultPages, problems: [] };
  const problems: PagesProblem[] = [];
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const templates = compileDefaults();
  const sources = { ...defaultPages.sources } as Record<PageName, PageSource>;
  let dir: string | undefined;
  if (cfg.templates_dir !== undefined) {
    dir = abs(cfg.templates_dir);
    let ok = false;
    try {
      ok = statSync(dir).isDirectory();
    } catch (e) {
      problems.push({
        path: 'pages.templates_dir',
        message: `cannot read ${dir}: ${(e as NodeJS.ErrnoException).code ?? 'EIO'}`,
      });
      dir = undefined;
    }
    if (dir !== undefined && !ok) {
      problems.push({ path: 'pages.templates_dir', message: `${dir} is not a directory` });
      dir = undefined;
    }
  }
  for (const name of PAGE_NAMES) {
    const own = cfg.templates?.[name];
    const keyPath = own !== undefined ? `pages.templates.${name}` : 'pages.templates_dir';
    const file = own !== undefined ? abs(own) : dir !== undefined ? join(dir, `${name}.html`) : undefined;
    if (file === undefined || (own === undefined && !isFile(file))) continue;
    const text = readText(file, keyPath, problems);
    if (text === undefined) continue;
    try {
      templates.set(name, compileTemplate(text, PAGE_SPECS[name]));
      sources[name] = file;
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      problems.push({ path: keyPath, message: `${file}: ${e.message}` });
    }
  }
  let css = DEFAULT_CSS;
  const cssFile = cfg.branding?.css_file;
  if (cssFile !== undefined) {
    const text = readText(abs(cssFile), 'pages.branding.css_file', problems);
    if (text !== undefined && /<\/|<!--/.test(text))
      problems.push({
        path: 'pages.branding.css_file',
        message: 'must not contain "</" or "<!--" (the style sheet is inlined into a <style> element)',
      });
    else if (text !== undefined) css += `\n${text}`;
  }
  if (problems.length > 0) return { pages: undefined, problems };
  const title = cfg.branding?.title ?? 'Gatehouse';
  return { pages: new PageSet(templates, commonVars(title, cfg.branding?.logo_url, css), sources), problems };
}

export { SafeHtml, escapeHtml };
