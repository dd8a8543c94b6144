import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { catalogue } from '../../src/errors/index.js';
import { renderErrorsDoc } from '../../src/errors/doc.js';

test('docs/errors.md documents exactly the codes in the catalogue (run npm run docs:errors)', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  assert.equal(doc, renderErrorsDoc());
});

test('every code has a GH_ name, an HTTP error status, a safe message and a meaning', () => {
  for (const [code, e] of Object.entries(catalogue)) {
    assert.match(code, /^GH_[A-Z0-9_]+$/, code);
    assert.ok(e.status >= 300 && e.status <= 599, `${code} status ${e.status}`);
    assert.ok(e.message.length > 5 && !/\$\{|undefined/.test(e.message), `${code} message`);
    assert.ok(e.meaning.length > 10, `${code} meaning`);
  }
});
