import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

// The web-farm examples in the docs pass `gatehouse validate` through the real CLI.

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** The first ```yaml block after `heading` in `doc`. */
function yamlAfter(doc: string, heading: string): string {
  const text = readFileSync(join(root, doc), 'utf8');
  const at = text.indexOf(heading);
  assert.ok(at >= 0, `${doc} has "${heading}"`);
  const m = /```yaml\n([\s\S]*?)```/.exec(text.slice(at));
  assert.ok(m, `a yaml block after "${heading}"`);
  return m[1] as string;
}

for (const [doc, heading] of [
  ['docs/deploy.md', '## Web farms (IIS ARR / NLB)'],
  ['docs/configuration.md', '### Web farms'],
] as const) {
  test(`${doc} "${heading}" example passes gatehouse validate`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-farm-doc-'));
    try {
      const file = join(dir, 'gatehouse.yaml');
      writeFileSync(file, yamlAfter(doc, heading));
      const r = await run(process.execPath, [join(root, 'bin/gatehouse.js'), 'validate', '-c', file], {
        timeout: 30_000,
        env: {
          ...process.env,
          GATEHOUSE_SESSION_SECRET: 'a-session-secret-of-at-least-32-characters!!',
          GATEHOUSE_CLIENT_SECRET: 'client-secret',
        },
      });
      assert.match(r.stdout, /configuration is valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
