import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../src/config/load.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
const example = fileURLToPath(new URL('../../examples/gatehouse.yaml', import.meta.url));
const env = {
  GATEHOUSE_SESSION_SECRET: 'example-session-secret-0123456789abcdefghijkl',
  GATEHOUSE_CLIENT_SECRET: 'example-client-secret',
};

test('gatehouse validate examples/gatehouse.yaml passes with the two documented secrets set', async () => {
  const r = await run(process.execPath, [bin, 'validate', example], { env: { ...process.env, ...env } });
  assert.match(r.stdout, /configuration is valid \(5 routes\)/);
});

test('without them it names exactly the two unset variables', async () => {
  const clean = { ...process.env, GATEHOUSE_SESSION_SECRET: '', GATEHOUSE_CLIENT_SECRET: '' };
  const r = await run(process.execPath, [bin, 'validate', example], { env: clean }).then(
    () => assert.fail('expected exit 1'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(r.code, 1);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errors.length, 2, r.stderr);
  assert.match(errors[0]!, /GATEHOUSE_SESSION_SECRET is not set/);
  assert.match(errors[1]!, /GATEHOUSE_CLIENT_SECRET is not set/);
});

test('the example protects the IIS app and the API for real and writes no file', async () => {
  const { config } = await loadConfigFile(example, env);
  assert.equal(config.audit.file, undefined);
  assert.equal(config.log.file, undefined);
  assert.equal(config.identity?.assertion, undefined);
  const byName = new Map(config.routes.map((r) => [r.name, r]));
  for (const name of ['intranet-admin', 'intranet', 'api-read', 'api-write']) {
    const r = byName.get(name);
    assert.ok(r, name);
    assert.notEqual(r.auth, 'none', name);
    assert.ok(r.rules?.length || r.policy, `${name} has rules`);
  }
  assert.equal(config.session?.login.provider, 'corp');
  assert.ok(config.providers?.corp, 'config.providers?.corp');
});
