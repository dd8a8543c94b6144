import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { percentEncodeValue, rfc8187EncodeValue, valueEncoding } from '../../src/identity/encode.js';
import { compileTemplate, type CompiledTemplate } from '../../src/identity/template.js';
import { isGatehouseError } from '../../src/errors/index.js';
import { userPrincipal } from './fixtures.js';

function compile(t: string, mode: 'percent' | 'rfc8187' | 'reject' = 'percent', sep = ','): CompiledTemplate {
  const c = compileTemplate(t, valueEncoding(mode), sep);
  assert.equal(typeof c, 'function', String(c));
  return c as CompiledTemplate;
}

test('placeholders render principal fields, claims paths and lists', () => {
  const p = userPrincipal();
  assert.equal(compile('{sub}')(p), p.subject);
  assert.equal(compile('{email}')(p), 'alice@example.com');
  assert.equal(compile('{groups}')(p), 'g-admins,g-finance,g-staff');
  assert.equal(compile('{groups}', 'percent', ';')(p), 'g-admins;g-finance;g-staff');
  assert.equal(compile('tenant={claims.tid}')(p), 'tenant=72f988bf-86f1-41af-91ab-2d7cd011db47');
  assert.equal(compile('{claims.dept.code}')(p), '42');
  assert.equal(compile('{claim:preferred_username}')(p), 'alice@example.com');
  assert.equal(compile('{{literal}} {name}')(p), '{literal} Alice Example');
});

test('a missing value omits the header instead of sending it half-filled', () => {
  const p = userPrincipal({ email: undefined, groups: [] });
  assert.equal(compile('{email}')(p), undefined);
  assert.equal(compile('mail:{email}')(p), undefined);
  assert.equal(compile('{groups}')(p), undefined);
  assert.equal(compile('{claims.nope.deeper}')(p), undefined);
  assert.equal(compile('{claims.__proto__}')(p), undefined);
});

test('invalid templates are rejected at load with a message', () => {
  const enc = valueEncoding('percent');
  assert.match(String(compileTemplate('{subj}', enc, ',')), /unknown placeholder \{subj\}/);
  assert.match(String(compileTemplate('{sub', enc, ',')), /unclosed/);
  assert.match(String(compileTemplate('a}b', enc, ',')), /unbalanced/);
  assert.match(String(compileTemplate('x\r\ny', enc, ',')), /printable ASCII/);
  assert.match(String(compileTemplate('{claims.}', enc, ',')), /unknown placeholder/);
});

test('percent mode: CR/LF/NUL, non-ASCII, "%" and separators inside items are encoded and decode back exactly', () => {
  const evil = userPrincipal({ name: 'Zoë\r\nX-Remote-User: admin\0', groups: ['a,b', 'c%d'] });
  const name = compile('{name}')(evil) as string;
  assert.doesNotMatch(name, /[\r\n\0]/);
  assert.equal(decodeURIComponent(name), 'Zoë\r\nX-Remote-User: admin\0');
  assert.equal(compile('{groups}')(evil), 'a%2Cb,c%25d');
  assert.deepEqual((compile('{groups}')(evil) as string).split(',').map(decodeURIComponent), ['a,b', 'c%d']);
  assert.equal(percentEncodeValue(' padded '), '%20padded%20');
});

test('percent mode round-trips any string and never emits a control or non-ASCII byte', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const e = percentEncodeValue(s);
      assert.match(e, /^[\x20-\x7e]*$/);
      if (!/[\uD800-\uDFFF]/.test(s)) assert.equal(decodeURIComponent(e), s);
    }),
  );
});

test('rfc8187 mode: ASCII as is, otherwise an ext-value; a user-chosen "UTF-8\'\'" prefix is encoded too', () => {
  assert.equal(rfc8187EncodeValue('alice'), 'alice');
  assert.equal(rfc8187EncodeValue('Zoë'), "UTF-8''Zo%C3%AB");
  assert.equal(rfc8187EncodeValue("utf-8''%41dmin"), "UTF-8''utf-8%27%27%2541dmin");
  assert.equal(rfc8187EncodeValue('a\nb'), "UTF-8''a%0Ab");
  assert.equal(compile('{name}', 'rfc8187')(userPrincipal({ name: 'Jürgen' })), "UTF-8''J%C3%BCrgen");
});

test('reject mode refuses non-ASCII, control characters and separators inside items with GH_IDENTITY_UNENCODABLE', () => {
  assert.equal(compile('{name}', 'reject')(userPrincipal()), 'Alice Example');
  for (const p of [userPrincipal({ name: 'Zoë' }), userPrincipal({ name: 'a\r\nb' })]) {
    assert.throws(
      () => compile('{name}', 'reject')(p),
      (e) => isGatehouseError(e, 'GH_IDENTITY_UNENCODABLE'),
    );
  }
  assert.throws(
    () => compile('{groups}', 'reject')(userPrincipal({ groups: ['a,b'] })),
    (e) => isGatehouseError(e, 'GH_IDENTITY_UNENCODABLE'),
  );
});
