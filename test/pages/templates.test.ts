import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigText } from '../../src/config/check.js';
import { silentLogger } from '../../src/log/logger.js';
import { SafeHtml, compileTemplate, loadPages, renderPage, TemplateError } from '../../src/pages/index.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gh-templates-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `upstreams: { app: { url: "http://127.0.0.1:9" } }
routes: [ { name: home, match: { path: / }, upstream: app, auth: none } ]
`;

async function problems(pages: string): Promise<string[]> {
  const r = await checkConfigText(`${BASE}pages:\n${pages}`, {
    file: join(dir, 'gatehouse.yaml'),
    logger: silentLogger(),
    env: {},
  });
  return r.problems.map((p) => `${p.path}: ${p.message}`);
}

test('every {{var}} is HTML-escaped; only SafeHtml built by Gatehouse goes in as is', () => {
  const t = compileTemplate('<a href="{{u}}" title=\'{{u}}\'>{{u}}</a>{{s}}', { vars: ['u', 's'] });
  const out = t.render({ u: `"><script>x</script>&'`, s: new SafeHtml('<hr>') });
  assert.equal(
    out,
    '<a href="&quot;&gt;&lt;script&gt;x&lt;/script&gt;&amp;&#39;" title=\'&quot;&gt;&lt;script&gt;x&lt;/script&gt;&amp;&#39;\'>&quot;&gt;&lt;script&gt;x&lt;/script&gt;&amp;&#39;</a><hr>',
  );
  assert.throws(() => compileTemplate('{{{u}}}', { vars: ['u'] }), TemplateError, 'no raw syntax');
});

test('if/else, each and comments', () => {
  const t = compileTemplate('{{! note }}{{#if a}}A{{else}}not A{{/if}}:{{#each xs}}[{{n}}{{a}}]{{/each}}', {
    vars: ['a'],
    lists: { xs: ['n'] },
  });
  assert.equal(t.render({ a: '', xs: [{ n: '<1>' }, { n: 2 }] }), 'not A:[&lt;1&gt;][2]');
  assert.equal(t.render({ a: 'y', xs: [] }), 'A:');
});

test('syntax errors and unknown variables name the line', () => {
  const cases: [string, RegExp][] = [
    ['<p>\n{{#if user}}\n<b>', /^line 2: \{\{#if user\}\} is never closed/],
    ['x\n\n{{/if}}', /^line 3: "\{\{\/if\}\}" without an opening \{\{#if\}\}/],
    ['{{#each xs}}{{/if}}', /^line 1: "\{\{\/if\}\}" closes \{\{#each xs\}\} opened on line 1/],
    ['a\n{{ nope }}', /^line 2: unknown variable "nope"; this template can use: user, xs/],
    ['{{user', /^line 1: "\{\{" without a closing "\}\}"/],
    ['{{#each user}}{{/each}}', /^line 1: unknown list variable "user"/],
    ['{{else}}', /outside an \{\{#if\}\} block/],
  ];
  for (const [text, want] of cases) {
    assert.throws(
      () => compileTemplate(text, { vars: ['user'], lists: { xs: ['n'] } }),
      (e: Error) => e instanceof TemplateError && want.test(e.message),
      text,
    );
  }
});

test('renderPage: the built-in chooser and signed-out pages for the SSO code', () => {
  const chooser = renderPage('login_chooser', {
    title: 'Choose how to sign in',
    providers: [
      { name: 'entra', label: 'Staff <Entra ID>', url: '/.gatehouse/login?provider=entra&rd=%2F' },
      { name: 'okta', label: 'Partners', url: '/.gatehouse/login?provider=okta' },
    ],
  });
  assert.match(
    chooser,
    /<a class="button" href="\/\.gatehouse\/login\?provider=entra&amp;rd=%2F">Staff &lt;Entra ID&gt;<\/a>/,
  );
  assert.match(chooser, /<title>Choose how to sign in · Gatehouse<\/title>/);
  const out = renderPage('signed_out', { title: 'Signed out', sign_in_url: '/.gatehouse/login' });
  assert.match(out, /You are signed out\./);
  assert.match(out, /href="\/\.gatehouse\/login">Sign in again/);
});

test('operator templates from templates_dir; a page without a file keeps the built-in one', () => {
  const tdir = join(dir, 'tpl');
  mkdirSync(tdir);
  writeFileSync(join(tdir, 'signed_out.html'), '<h1 class="bye">{{brand_title}}: {{message}}</h1>');
  const { pages, problems: p } = loadPages({ templates_dir: 'tpl', branding: { title: 'Acme' } }, dir);
  assert.deepEqual(p, []);
  assert.equal(
    pages?.render('signed_out', { message: 'Bye <now>' }),
    '<h1 class="bye">Acme: Bye &lt;now&gt;</h1>',
  );
  assert.equal(pages?.sources.error, 'default');
  assert.match(pages?.render('error', { title: 'Access denied', request_id: 'r1' }) ?? '', /Acme/);
});

test('config errors name the key path, the file and the template line', async () => {
  writeFileSync(join(dir, 'bad.html'), '<html>\n<body>\n{{#if user}}\n<p>{{user}}</p>\n</body>\n');
  writeFileSync(join(dir, 'unknown.html'), '<p>{{password}}</p>\n');
  writeFileSync(join(dir, 'bad.css'), 'body{} </style><script>alert(1)</script>\n');
  const p = await problems(
    '  templates: { error: bad.html, signed_out: unknown.html, login_chooser: missing.html }\n  branding: { css_file: bad.css, logo_url: "javascript:alert(1)" }\n',
  );
  const text = p.join('\n');
  assert.match(text, /pages\.templates\.error: \S*bad\.html: line 3: \{\{#if user\}\} is never closed/);
  assert.match(text, /pages\.templates\.signed_out: \S*unknown\.html: line 1: unknown variable "password"/);
  assert.match(text, /pages\.templates\.login_chooser: cannot read file \S*missing\.html: ENOENT/);
  assert.match(text, /pages\.branding\.logo_url: expected an http\(s\) URL or a path/);
  const css = await problems('  branding: { css_file: bad.css }\n');
  assert.match(css.join('\n'), /pages\.branding\.css_file: must not contain "<\/"/);
  const d = await problems('  templates_dir: no-such-dir\n');
  assert.match(d.join('\n'), /pages\.templates_dir: cannot read \S*no-such-dir: ENOENT/);
  assert.deepEqual(await problems('  branding: { title: Acme }\n'), []);
});
