import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { doctor, workdir } from './helpers.js';

// The command line of `gatehouse doctor`: usage and configuration errors exit 2 like validate
// and explain; the text and JSON reports; exit 0 when nothing is wrong.

const wd = workdir();
after(() => wd.cleanup());

test('--help prints the usage with every family and exits 0', async () => {
  const r = await doctor(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^usage: gatehouse doctor -c FILE/);
  for (const f of ['provider', 'token', 'login', 'headers', 'upstream', 'tls'])
    assert.match(r.stdout, new RegExp(`\\n  ${f} `));
});

test('usage errors exit 2: no config, an unknown family, a bad timeout', async () => {
  const file = wd.write('empty.yaml', {});
  const [none, fam, to] = await Promise.all([
    doctor([]),
    doctor(['-c', file, '--only', 'provider,dns']),
    doctor(['-c', file, '--timeout', 'soon']),
  ]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /gatehouse doctor: missing -c FILE/);
  assert.equal(fam.code, 2);
  assert.match(
    fam.stderr,
    /--only: unknown family dns; expected provider, token, login, headers, upstream, tls/,
  );
  assert.equal(to.code, 2);
  assert.match(to.stderr, /--timeout expects a duration/);
});

test('a config that does not load exits 2 with its key paths, like validate', async () => {
  const file = wd.write('bad.yaml', {
    providers: { main: { issuer: 'https://idp.example', audiences: [] } },
  });
  const r = await doctor(['-c', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /providers\.main\.audiences/);
});
