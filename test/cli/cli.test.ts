import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
const fixture = (n: string) => fileURLToPath(new URL(`../fixtures/${n}`, import.meta.url));

async function gatehouse(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

test('gatehouse validate on a broken config exits 1 and prints every error with its path', async () => {
  const r = await gatehouse('validate', '-c', fixture('broken.yaml'));
  assert.equal(r.code, 1);
  for (const p of [
    'server.listeners[0].port',
    'server.timeouts.headers',
    'upstreams.app.url',
    'routes[1].match.path',
    'routes[2].bogus_key',
    'routes[3].max_body_size',
  ]) {
    assert.ok(r.stderr.includes(`error: ${p}:`), `missing ${p} in:\n${r.stderr}`);
  }
});

test('gatehouse validate on a valid config exits 0', async () => {
  const r = await gatehouse('validate', '-c', fixture('valid.yaml'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /configuration is valid \(1 route\)/);
});

test('gatehouse schema prints a JSON Schema with the route keys for editor completion', async () => {
  const r = await gatehouse('schema');
  assert.equal(r.code, 0);
  const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown> };
  assert.ok(schema.properties.routes, 'schema.properties.routes');
  assert.match(r.stdout, /"additionalProperties": false/);
});

test('--version, --help and usage errors', async () => {
  assert.match((await gatehouse('--version')).stdout, /^\d+\.\d+\.\d+\n$/);
  assert.match((await gatehouse('--help')).stdout, /gatehouse start -c FILE/);
  const bad = await gatehouse('frobnicate');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
  const missing = await gatehouse('validate');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing FILE/);
});

test('gatehouse start fails fast with config errors and exit code 1', async () => {
  const r = await gatehouse('start', '-c', fixture('broken.yaml'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /upstreams\.app\.url/);
});
