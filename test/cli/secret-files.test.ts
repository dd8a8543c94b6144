import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../src/config/load.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gh-secrets-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'a'.repeat(24) + 'B'.repeat(24);
mkdirSync(join(dir, 'secrets'));
writeFileSync(join(dir, 'secrets', 'session'), `${SECRET}\r\n`);
writeFileSync(join(dir, 'abs-secret'), `${SECRET.toLowerCase()}\n`);

function config(secretRefs: string): string {
  return [
    'server: { external_url: "https://intranet.example.com" }',
    'upstreams:',
    '  app: { url: "http://127.0.0.1:9" }',
    'providers:',
    '  corp: { issuer: "https://idp.example.com", audiences: [app], login_client_ids: [gh] }',
    'session:',
    `  secrets: [${secretRefs}]`,
    '  login: { provider: corp, client_id: gh, client_secret: "${file:secrets/session}" }',
    'routes:',
    '  - { match: { path: / }, upstream: app, auth: session, allow: authenticated }',
    '',
  ].join('\n');
}

test('${file:PATH} reads a secret file: relative to the config dir, absolute, trailing newline trimmed', async () => {
  const p = join(dir, 'ok.yaml');
  writeFileSync(p, config(`"\${file:secrets/session}", "\${file:${join(dir, 'abs-secret')}}"`));
  const { config: cfg } = await loadConfigFile(p, {});
  assert.deepEqual(cfg.session?.secrets, [SECRET, SECRET.toLowerCase()]);
  assert.equal(cfg.session?.login.client_secret, SECRET);
  const r = await run(process.execPath, [bin, 'validate', p], { cwd: tmpdir() });
  assert.match(r.stdout, /configuration is valid \(1 route\)/);
});

test('an unreadable secret file is a config error naming the key path and the file, once', async () => {
  const p = join(dir, 'bad.yaml');
  writeFileSync(
    p,
    config('"${file:secrets/missing}"').replace('${file:secrets/session}', '${file:secrets/missing}'),
  );
  const r = await run(process.execPath, [bin, 'validate', p]).then(
    () => assert.fail('expected exit 1'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(r.code, 1);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.deepEqual(errors, [
    `error: session.secrets[0]: cannot read secret file ${join(dir, 'secrets', 'missing')} (referenced as \${file:secrets/missing}): ENOENT; also used at session.login.client_secret`,
  ]);
});
