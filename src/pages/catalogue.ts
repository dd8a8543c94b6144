import type { TemplateSpec } from './template.js';

/** The pages an operator can replace (`pages.templates.<name>` or `<templates_dir>/<name>.html`). */
export const PAGE_NAMES = ['error', 'login_chooser', 'signed_out'] as const;

/** Name of a replaceable page. */
export type PageName = (typeof PAGE_NAMES)[number];

/** Variables every page gets: branding and the built-in style sheet. */
export const COMMON_VARS = [
  /** `pages.branding.title` (default "Gatehouse"). */
  'brand_title',
  /** `pages.branding.logo_url`, when set. */
  'logo_url',
  /** A `<style>` element: the default style sheet plus `pages.branding.css_file` (SafeHtml). */
  'style',
  /** The page's own title ("Access denied", "Choose how to sign in"…). */
  'title',
] as const;

/**
 * The variables of each page (besides {@link COMMON_VARS}); `lists` are `{{#each}}` variables
 * with their item fields. Documented in docs/pages.md.
 */
export const PAGE_SPECS: Readonly<Record<PageName, TemplateSpec>> = {
  error: {
    vars: [
      ...COMMON_VARS,
      'status',
      'code',
      'message',
      'reason',
      'reason_code',
      'user',
      'request_id',
      'hint',
      'sign_out_url',
      'switch_account_url',
      'sign_in_url',
      'retry_url',
    ],
  },
  login_chooser: {
    vars: [...COMMON_VARS, 'message', 'return_to', 'request_id'],
    lists: { providers: ['name', 'label', 'url'] },
  },
  signed_out: {
    vars: [...COMMON_VARS, 'message', 'sign_in_url', 'request_id'],
  },
};

const HEAD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · {{brand_title}}</title>
{{style}}
</head><body><main>
<header>{{#if logo_url}}<img class="logo" src="{{logo_url}}" alt="">{{/if}}<span class="brand">{{brand_title}}</span></header>`;

const FOOT = `
</main></body></html>
`;

/** The built-in templates (same language as operators' templates). */
export const DEFAULT_TEMPLATES: Readonly<Record<PageName, string>> = {
  error: `${HEAD}
<h1>{{title}}</h1>
{{#if user}}<p>You are signed in as <strong>{{user}}</strong>.</p>{{/if}}
{{#if reason}}<p class="reason">{{reason}}</p>{{else}}<p>{{message}}</p>{{/if}}
{{#if hint}}<p>{{hint}}</p>{{/if}}
<p class="actions">{{#if retry_url}}<a class="button" href="{{retry_url}}">Sign in again</a> {{/if}}{{#if sign_in_url}}<a class="button" href="{{sign_in_url}}">Sign in</a> {{/if}}{{#if switch_account_url}}<a class="button" href="{{switch_account_url}}">Switch account</a> {{/if}}{{#if sign_out_url}}<a class="button secondary" href="{{sign_out_url}}">Sign out</a>{{/if}}</p>
<p class="meta">Error <code>{{code}}</code> ({{status}}){{#if reason_code}} · reason <code>{{reason_code}}</code>{{/if}} · request id <code>{{request_id}}</code>. Give the request id to your administrator: <code>gatehouse explain --request-id</code> shows the whole decision.</p>${FOOT}`,
  login_chooser: `${HEAD}
<h1>{{title}}</h1>
{{#if message}}<p>{{message}}</p>{{/if}}
<ul class="choices">{{#each providers}}<li><a class="button" href="{{url}}">{{label}}</a></li>{{/each}}</ul>${FOOT}`,
  signed_out: `${HEAD}
<h1>{{title}}</h1>
<p>{{#if message}}{{message}}{{else}}You are signed out.{{/if}}</p>
{{#if sign_in_url}}<p class="actions"><a class="button" href="{{sign_in_url}}">Sign in again</a></p>{{/if}}${FOOT}`,
};

/** The default style sheet (operators add theirs with `pages.branding.css_file`). */
export const DEFAULT_CSS =
  'body{font:16px/1.5 system-ui,sans-serif;color:#222;margin:0}main{max-width:40rem;margin:3rem auto;padding:0 1rem}' +
  'header{display:flex;align-items:center;gap:.6rem;margin-bottom:2rem;color:#555}.logo{max-height:2.5rem}' +
  'code{background:#f3f3f3;padding:.1rem .3rem}.meta{color:#666;font-size:.9rem;margin-top:2rem}' +
  '.choices{list-style:none;padding:0}.choices li{margin:.5rem 0}' +
  'a.button{display:inline-block;margin:.25rem .25rem .25rem 0;padding:.5rem 1rem;background:#1f4fd1;color:#fff;text-decoration:none;border-radius:.3rem}' +
  'a.button.secondary{background:#eee;color:#222}';
