import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const VITE = join('node_modules', 'vite', 'bin', 'vite.js');

test('the console builds into self-contained static files: relative asset URLs, no CDN, a small bundle', () => {
  const out = mkdtempSync(join(tmpdir(), 'gh-console-'));
  try {
    const r = spawnSync(process.execPath, [VITE, 'build', 'console', '--outDir', out, '--emptyOutDir'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `vite build console:\n${r.stdout}\n${r.stderr}`);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    const refs = [...index.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);
    assert.ok(
      refs.some((u) => /^\.\/assets\/index-[\w-]+\.js$/.test(u)),
      `the script is relative: ${refs.join(' ')}`,
    );
    assert.ok(
      refs.some((u) => /^\.\/assets\/index-[\w-]+\.css$/.test(u)),
      `the styles are relative: ${refs.join(' ')}`,
    );
    for (const u of refs)
      assert.ok(u.startsWith('./') || u.startsWith('data:'), `no absolute URL in index.html: ${u}`);
    assert.doesNotMatch(index, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script (the console CSP has none)');

    const assets = readdirSync(join(out, 'assets'));
    const js = assets
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(out, 'assets', f), 'utf8'));
    const css = assets
      .filter((f) => f.endsWith('.css'))
      .map((f) => readFileSync(join(out, 'assets', f), 'utf8'));
    assert.equal(js.length, 1, `one script: ${assets.join(' ')}`);
    for (const text of [...js, ...css]) {
      // XML namespace names (SVG, MathML) are identifiers, not requests.
      const urls = [...text.matchAll(/https?:\/\/[^\s"'`)]+/g)].map((m) => m[0]);
      assert.deepEqual(
        urls.filter((u) => !u.startsWith('http://www.w3.org/')),
        [],
        'the console loads nothing from another origin',
      );
    }
    const gz = gzipSync(js.join('')).length;
    assert.ok(gz < 60 * 1024, `the script stays small: ${gz} bytes gzip`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('npm run build builds the console, the package ships it, the image copies it', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    scripts: Record<string, string>;
    files: string[];
  };
  assert.match(pkg.scripts['build'] ?? '', /tsc -p tsconfig\.build\.json && vite build console/);
  assert.ok(pkg.files.includes('console/dist'), 'package.json files: console/dist');
  const gitignore = readFileSync('.gitignore', 'utf8').split('\n');
  assert.ok(gitignore.includes('console/dist/'), 'console/dist is built, not committed');
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const build = dockerfile.indexOf('RUN npm run build');
  assert.ok(
    dockerfile.indexOf('COPY console ./console') > 0 && dockerfile.indexOf('COPY console ./console') < build,
    "dockerfile.indexOf('COPY console ./console') > 0 && dockerfile.indexOf('COPY console ./console') < build",
  );
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  assert.match(finalStage, /^COPY --from=build \/src\/console\/dist \.\/console\/dist$/m);
});
