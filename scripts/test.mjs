// Runs every test file under test/ with node's test runner (TypeScript through tsx).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const filter = process.argv.slice(2);
let files = walk('test').sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
// *.slow.test.ts files wait on real clocks (Kerberos tickets cannot be shorter than about two
// minutes with Samba's KDC): run after the others, with 10 minutes per file instead of 2.
const run = (list, timeout) =>
  list.length === 0
    ? 0
    : (spawnSync(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${timeout}`, ...list],
        {
          stdio: 'inherit',
          env: { ...process.env, GATEHOUSE_TEST: '1' },
        },
      ).status ?? 1);
const fast = run(
  files.filter((f) => !f.endsWith('.slow.test.ts')),
  120000,
);
const slow = run(
  files.filter((f) => f.endsWith('.slow.test.ts')),
  600000,
);
process.exit(fast || slow);
