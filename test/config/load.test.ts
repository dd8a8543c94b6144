import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError, loadConfigFile } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { silentLogger } from '../../src/log/logger.js';

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, 'e instanceof ConfigError');
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

test('every problem is reported at once with its exact key path', async () => {
  const r = await loadConfigFile(new URL('../fixtures/broken.yaml', import.meta.url).pathname).catch(
    (e: unknown) => e,
  );
  assert.ok(r instanceof ConfigError, 'r instanceof ConfigError');
  const list = r.problems.map((p) => `${p.path}: ${p.message}`);
  const expect = [
    /^server\.listeners\[0\]\.port: /,
    /^server\.timeouts\.headers: expected a duration/,
    /^upstreams\.app\.url: expected an absolute http\(s\) URL/,
    /^routes\[1\]\.match\.path: expected a path starting with "\/"/,
    /^routes\[2\]\.upstream/,
    /^routes\[2\]\.bogus_key: unknown key/,
    /^routes\[3\]\.max_body_size/,
  ];
  for (const re of expect)
    assert.ok(
      list.some((l) => re.test(l)),
      `missing ${re} in\n${list.join('\n')}`,
    );
});

test('unknown keys anywhere are errors, so typos cannot silently disable security', () => {
  const p = problems(
    'routes:\n  - match: { path: / }\n    upstream: { url: "http://a" }\n    auth: none\n    polcy: admins\n',
  );
  assert.deepEqual(p, ['routes[0].polcy: unknown key "polcy"; did you mean "policy"?']);
});

test('${VAR} and ${VAR:-default} are substituted; a missing variable is named', () => {
  const yaml =
    'upstreams:\n  a: { url: "${UP}" }\n  b: { url: "${OTHER:-http://b.example}" }\n  c: { url: "http://${MISSING_HOST}" }\n';
  const p = problems(yaml, { UP: 'http://a.example' });
  // Reported once; the empty URL it leaves behind is not a second problem.
  assert.equal(p.length, 1);
  assert.match(p[0]!, /^upstreams\.c\.url: environment variable MISSING_HOST is not set/);
  const cfg = parseConfig(yaml, { UP: 'http://a.example', MISSING_HOST: 'c.example' });
  assert.equal(cfg.upstreams.a?.url, 'http://a.example');
  assert.equal(cfg.upstreams.b?.url, 'http://b.example');
});

test('YAML syntax errors point at the line', () => {
  const p = problems('routes:\n  - match: { path: /\n');
  assert.match(p[0]!, /^line \d+:\d+: /);
});

test('semantic errors from compilation (unknown upstream, auth none mixed) carry paths too', () => {
  const cfg = parseConfig(
    'upstreams:\n  app: { url: "http://127.0.0.1:1" }\nroutes:\n  - { match: { path: / }, upstream: nope, auth: none }\n  - { match: { path: /b }, upstream: app, auth: [none, bearer] }\n',
  );
  try {
    compileState(cfg, { logger: silentLogger(), baseDir: '.', dryRun: true });
    assert.fail('expected ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError, 'e instanceof ConfigError');
    const list = e.problems.map((p) => `${p.path}: ${p.message}`);
    assert.ok(
      list.some((l) => /^routes\[0\]\.upstream: unknown upstream "nope"; expected one of app/.test(l)),
      list.join('\n'),
    );
    assert.ok(
      list.some((l) => /^routes\[1\]\.auth: "none" cannot be combined/.test(l)),
      list.join('\n'),
    );
  }
});

test('the compiled runtime state is frozen', () => {
  const cfg = parseConfig(
    'upstreams:\n  app: { url: "http://127.0.0.1:1" }\nroutes:\n  - { match: { path: / }, upstream: app, auth: none }\n',
  );
  const state = compileState(cfg, { logger: silentLogger(), baseDir: '.', dryRun: true });
  assert.ok(Object.isFrozen(state), 'Object.isFrozen(state)');
  assert.ok(Object.isFrozen(state.routes), 'Object.isFrozen(state.routes)');
  assert.ok(Object.isFrozen(state.routes[0]), 'Object.isFrozen(state.routes[0])');
  void state.close();
});
