import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { doctor, doctorJson, workdir } from './helpers.js';

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
  const none = await doctor([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /gatehouse doctor: missing -c FILE/);
  const file = wd.write('empty.yaml', {});
  const fam = await doctor(['-c', file, '--only', 'provider,dns']);
  assert.equal(fam.code, 2);
  assert.match(
    fam.stderr,
    /--only: unknown family dns; expected provider, token, login, headers, upstream, tls/,
  );
  const to = await doctor(['-c', file, '--timeout', 'soon']);
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

test('nothing to check: an empty report, exit 0, text and JSON', async () => {
  const file = wd.write('nothing.yaml', {});
  const text = await doctor(['-c', file]);
  assert.equal(text.code, 0);
  assert.match(
    text.stdout,
    /^gatehouse doctor: .*nothing\.yaml\n\nnothing to check: .*\n\n0 errors, 0 warnings, 0 ok\n$/,
  );
  const { run, report } = await doctorJson(['-c', file]);
  assert.equal(run.code, 0);
  assert.deepEqual(report.summary, { errors: 0, warnings: 0, ok: 0 });
  assert.ok(report.file.endsWith('nothing.yaml'));
  assert.ok(!Number.isNaN(Date.parse(report.checked_at)));
});
