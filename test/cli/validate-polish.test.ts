import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gh-validate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function gatehouse(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], {
      timeout: 30_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

function file(name: string, yaml: string): string {
  const p = join(dir, name);
  writeFileSync(p, yaml);
  return p;
}

test('every subcommand answers --help with its usage on stdout and exit 0', async () => {
  for (const cmd of ['start', 'validate', 'explain', 'dev', 'schema']) {
    for (const flag of ['--help', '-h']) {
      const r = await gatehouse([cmd, flag]);
      assert.equal(r.code, 0, `${cmd} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: gatehouse ${cmd}`), `${cmd} ${flag}`);
      assert.equal(r.stderr, '');
    }
  }
  const top = await gatehouse(['--help']);
  assert.match(top.stdout, /gatehouse validate \[-c\] FILE/);
});

test('validate FILE works without -c; -c FILE still works; two files are a usage error', async () => {
  const ok = file(
    'ok.yaml',
    'routes:\n  - { match: { path: / }, upstream: { url: "http://127.0.0.1:9" }, auth: none }\n',
  );
  for (const args of [
    ['validate', ok],
    ['validate', '-c', ok],
    ['validate', `--config=${ok}`],
  ]) {
    const r = await gatehouse(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configuration is valid \(1 route\)/);
  }
  const two = await gatehouse(['validate', ok, ok]);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /expected one FILE/);
});

test('schema and semantic problems are reported together in one pass', async () => {
  const p = file(
    'mixed.yaml',
    [
      'upstreams:',
      '  app: { url: "http://127.0.0.1:9" }',
      'routes:',
      '  - { match: { path: nope }, upstream: app, auth: none }',
      '  - { match: { path: /b }, upstream: missing, auth: none }',
      '  - { match: { path: /c }, upstream: app, auth: [none, session], allow: authenticated }',
      '',
    ].join('\n'),
  );
  const r = await gatehouse(['validate', p]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: routes\[0\]\.match\.path: expected a path starting with "\/"/);
  assert.match(r.stderr, /error: routes\[1\]\.upstream: unknown upstream "missing"; expected one of app/);
  assert.match(r.stderr, /error: routes\[2\]\.auth: "none" cannot be combined/);
  assert.match(r.stderr, /: 3 errors\n/);
});

test('wrong types say what was expected and what was given, not "required"', async () => {
  const p = file(
    'types.yaml',
    'server:\n  listeners: [{ port: "8080" }]\n  fast_lane: "yes"\nupstreams:\n  app: { url: "http://127.0.0.1:9", max_connections: "12" }\n',
  );
  const r = await gatehouse(['validate', p]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: server\.listeners\[0\]\.port: expected a number, got string\n/);
  assert.match(r.stderr, /error: server\.fast_lane: expected true or false, got string\n/);
  assert.match(r.stderr, /error: upstreams\.app\.max_connections: expected a number, got string\n/);
  assert.doesNotMatch(r.stderr, /required/);
});

test('a typo in a key suggests the closest allowed key at that path', async () => {
  const p = file(
    'typo.yaml',
    'upstreams:\n  app: { url: "http://127.0.0.1:9", max_conections: 5 }\nroutes:\n  - match: { path: / }\n    upstreem: app\n    auth: none\n    xyzzy: 1\n',
  );
  const r = await gatehouse(['validate', p]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: routes\[0\]\.upstreem: unknown key "upstreem"; did you mean "upstream"\?/);
  assert.match(
    r.stderr,
    /error: upstreams\.app\.max_conections: unknown key "max_conections"; did you mean "max_connections"\?/,
  );
  assert.match(r.stderr, /error: routes\[0\]\.xyzzy: unknown key "xyzzy"\n/);
});

test('an unset ${VAR} is reported once, naming every key that uses it', async () => {
  const p = file(
    'env.yaml',
    'upstreams:\n  a: { url: "${GH_TEST_UNSET_URL}" }\n  b: { url: "${GH_TEST_UNSET_URL}" }\nroutes:\n  - { match: { path: / }, upstream: a, auth: none }\n',
  );
  const r = await gatehouse(['validate', p], { GH_TEST_UNSET_URL: '' });
  assert.equal(r.code, 1);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.deepEqual(lines, [
    'error: upstreams.a.url: environment variable GH_TEST_UNSET_URL is not set (referenced as ${GH_TEST_UNSET_URL}); also used at upstreams.b.url',
  ]);
});

test('--json reports the same problems machine-readably', async () => {
  const p = file(
    'json.yaml',
    'routes:\n  - { match: { path: / }, upstream: nowhere, auth: none, polcy: x }\n',
  );
  const r = await gatehouse(['validate', '--json', p]);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { valid: boolean; errors: { path: string; message: string }[] };
  assert.equal(out.valid, false);
  assert.deepEqual(
    out.errors.map((e) => e.path),
    ['routes[0].polcy', 'routes[0].upstream'],
  );
});
