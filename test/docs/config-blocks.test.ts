/**
 * Docs cannot rot: every ```yaml block in docs/*.md and README.md, and every examples/*.yaml,
 * goes through the same validation and dry-run compilation as `gatehouse validate` (no network,
 * no files written). The convention (docs/configuration.md, "Examples in these docs"):
 * - a ```yaml block is a complete Gatehouse config;
 * - a block whose first line is `# fragment: merged into <file>` is deep-merged into that base
 *   config (mappings merged, lists replaced) first;
 * - YAML that is not a Gatehouse config names its tool: ```yaml traefik, ```yaml kubernetes…
 * `${VAR}` references to secrets (`*SECRET*`, `*PASSWORD*`, `*TOKEN*`, `*KEY*`) and URLs (`*_URL`,
 * `*_ISSUER`) get placeholder values, as an operator's environment would supply; other variables
 * stay unset (their defaults apply). `${file:…}` reads a placeholder secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { checkConfigText } from '../../src/config/check.js';
import { silentLogger } from '../../src/log/logger.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const FRAGMENT = /^#\s*fragment:\s*merged into\s+(\S+)/;
/** A file a block names (certificate, key file) is the reader's own: only its absence is tolerated. */
const MISSING_FILE = /: cannot read (file )?\S+: ENOENT/;

interface Block {
  readonly where: string;
  readonly text: string;
}

/** Every ```yaml block (info string exactly `yaml`) of a Markdown file, with its line. */
function yamlBlocks(rel: string): Block[] {
  const lines = readFileSync(join(root, rel), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```yaml\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const indent = (open[1] as string).length;
    const start = i + 1;
    const body: string[] = [];
    while (++i < lines.length && !/^\s*```\s*$/.test(lines[i] as string))
      body.push((lines[i] as string).slice(indent));
    out.push({ where: `${rel}:${start}`, text: body.join('\n') });
  }
  return out;
}

/** What an operator's environment supplies: secrets, and URLs for `*_URL` / `*_ISSUER`. Others stay unset. */
const env = new Proxy({} as NodeJS.ProcessEnv, {
  get: (_t, name) => {
    if (typeof name !== 'string') return undefined;
    if (name === 'REDIS_URL') return 'redis://127.0.0.1:6379';
    // The public URL users open is https in production (session cookies need it).
    if (name === 'PUBLIC_URL' || name === 'EXTERNAL_URL') return 'https://gate.example.com';
    if (name.endsWith('_URL')) return 'http://127.0.0.1:9';
    if (name.endsWith('_ISSUER')) return 'https://login.example.com';
    if (/SECRET|PASSWORD|TOKEN|KEY/.test(name))
      return `doc-${name.toLowerCase()}-0123456789abcdefghijklmnopqrstuvwxyz`.slice(0, 64).padEnd(48, 'x');
    return undefined;
  },
});

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Mappings merged key by key, anything else (lists included) replaced by the fragment's value. */
function merge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k], v) : v;
  return out;
}

async function problems(block: Block): Promise<string[]> {
  let text = block.text;
  const frag = FRAGMENT.exec(text.split('\n')[0] ?? '');
  if (frag) {
    const base = parse(readFileSync(join(root, frag[1] as string), 'utf8')) as unknown;
    text = stringify(merge(base, parse(text) as unknown));
  }
  const dir = mkdtempSync(join(tmpdir(), 'gh-docs-'));
  try {
    const r = await checkConfigText(text, {
      env,
      file: join(dir, 'gatehouse.yaml'),
      logger: silentLogger(),
      readFile: (p) => `doc-file-secret-${p.replace(/[^A-Za-z0-9]/g, '')}-0123456789abcdefghijklmnop`,
    });
    return r.problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.path}: ${p.message}`)
      .filter((l) => !MISSING_FILE.test(l));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const markdown = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => `examples/${f}`);

test('every ```yaml block in the docs is a Gatehouse config that validates', async () => {
  const failures: string[] = [];
  let n = 0;
  for (const file of markdown)
    for (const block of yamlBlocks(file)) {
      n++;
      const p = await problems(block);
      if (p.length) failures.push(`${block.where}\n    ${p.join('\n    ')}`);
    }
  assert.ok(n >= 30, `only ${n} yaml blocks found`);
  assert.deepEqual(
    failures,
    [],
    `${failures.length} of ${n} blocks do not validate:\n${failures.join('\n')}`,
  );
});

test('every examples/*.yaml validates', async () => {
  assert.ok(examples.length >= 2, 'examples.length >= 2');
  for (const file of examples) {
    const p = await problems({ where: file, text: readFileSync(join(root, file), 'utf8') });
    assert.deepEqual(p, [], file);
  }
});

test('the fragment convention merges into its base, so a fragment cannot hide an error', async () => {
  const ok = await problems({
    where: 'inline',
    text: '# fragment: merged into examples/base.yaml\nroutes:\n  - { match: { path: / }, upstream: app, auth: session, allow: authenticated }\n',
  });
  assert.deepEqual(ok, []);
  const bad = await problems({
    where: 'inline',
    text: '# fragment: merged into examples/base.yaml\nroutes:\n  - { match: { path: / }, upstream: nowhere, auth: session, allow: authenticated }\n',
  });
  assert.match(bad.join('\n'), /routes\[0\]\.upstream: unknown upstream "nowhere"/);
});
