/**
 * Pages Gatehouse shows browsers (errors and refusals, the sign-in provider chooser, signed
 * out), from templates that are HTML-escaped by construction. Depends on nothing else in
 * Gatehouse. See docs/pages.md.
 */
export { PAGE_NAMES, PAGE_SPECS, COMMON_VARS, type PageName } from './catalogue.js';
export { PAGES_SERVICE, PageSet, defaultPages, loadPages, renderPage, type PagesProblem } from './pages.js';
export { pagesSchema, type PagesConfig } from './schema.js';
export {
  SafeHtml,
  TemplateError,
  compileTemplate,
  escapeHtml,
  type TemplateSpec,
  type TemplateValue,
  type TemplateVars,
} from './template.js';
