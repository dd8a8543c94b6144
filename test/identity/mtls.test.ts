import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDn, parseSubjectAltName } from '../../src/authn/mtls.js';

test('subjectAltName parsing handles JSON-quoted values with commas', () => {
  assert.deepEqual(
    parseSubjectAltName(
      'DNS:a.example, URI:spiffe://example.org/x, email:"a, b@example.com", IP Address:127.0.0.1',
    ),
    [
      { type: 'DNS', value: 'a.example' },
      { type: 'URI', value: 'spiffe://example.org/x' },
      { type: 'email', value: 'a, b@example.com' },
      { type: 'IP Address', value: '127.0.0.1' },
    ],
  );
  assert.deepEqual(parseSubjectAltName('URI:"spiffe://x/a, DNS:evil"'), [
    { type: 'URI', value: 'spiffe://x/a, DNS:evil' },
  ]);
  assert.deepEqual(parseSubjectAltName(undefined), []);
});

test('subject DNs are RFC 4514 strings with special characters escaped', () => {
  assert.equal(formatDn({ O: 'Acme, Inc', CN: 'agent=7' }), 'CN=agent\\=7,O=Acme\\, Inc');
  assert.equal(formatDn({ OU: ['a', 'b'], CN: 'x' }), 'CN=x,OU=b,OU=a');
});
