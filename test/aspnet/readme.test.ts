import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { checkConfigText } from '../../src/config/check.js';
import { silentLogger } from '../../src/log/logger.js';
import { ASPNET_DIR } from './mono.js';

// The Gatehouse side of integrations/aspnet/README.md validates as `gatehouse validate` would
// (its web.config block is loaded by the Mono host in module.test.ts).

function merge(base: unknown, over: unknown): unknown {
  const obj = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!obj(base) || !obj(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k], v) : v;
  return out;
}

test("the README's Gatehouse YAML (RS256 assertion for the module) validates", async () => {
  const readme = readFileSync(join(ASPNET_DIR, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  assert.equal(blocks.length, 1);
  const fragment = blocks[0] as string;
  assert.match(fragment, /^# fragment: merged into examples\/base\.yaml/);
  const base = parse(readFileSync(join(ASPNET_DIR, '../../examples/base.yaml'), 'utf8')) as unknown;
  const doc = merge(base, parse(fragment)) as { identity: { assertion: { algorithm: string } } };
  assert.equal(doc.identity.assertion.algorithm, 'RS256');
  const dir = mkdtempSync(join(tmpdir(), 'gh-aspnet-readme-'));
  try {
    const r = await checkConfigText(stringify(doc), {
      env: { GATEHOUSE_SESSION_SECRET: 'x'.repeat(48), GATEHOUSE_CLIENT_SECRET: 'y'.repeat(48) },
      file: join(dir, 'gatehouse.yaml'),
      logger: silentLogger(),
    });
    assert.deepEqual(
      r.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
