import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { parseRate } from '../../src/limits/schema.js';

const logger = pino({ level: 'silent' });

function problems(doc: Record<string, unknown>): string[] {
  try {
    const cfg = validateConfig(doc);
    const st = compileState(cfg, { logger, baseDir: process.cwd(), dryRun: true });
    void st.close();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
  }
}

const base = (route: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  upstreams: { app: { url: 'http://127.0.0.1:1' } },
  routes: [{ name: 'r', match: { path: '/' }, upstream: 'app', auth: 'none', ...route }],
  ...extra,
});

test('rates parse in the units users write', () => {
  assert.deepEqual(parseRate('10/s'), { count: 10, periodMs: 1000 });
  assert.deepEqual(parseRate('600/min'), { count: 600, periodMs: 60_000 });
  assert.deepEqual(parseRate('1000/hour'), { count: 1000, periodMs: 3_600_000 });
  assert.deepEqual(parseRate('5000/day'), { count: 5000, periodMs: 86_400_000 });
  assert.deepEqual(parseRate('100/10s'), { count: 100, periodMs: 10_000 });
  assert.deepEqual(parseRate('20 / minutes'), { count: 20, periodMs: 60_000 });
  assert.equal(parseRate('10/fortnight'), undefined);
  assert.equal(parseRate('0/s'), undefined);
  assert.equal(parseRate('ten/s'), undefined);
});

test('a valid limits/cache/api_keys configuration compiles', () => {
  assert.deepEqual(
    problems(
      base(
        {
          limits: ['per-user', { rate: '5/s', key: 'ip' }],
          cache: { ttl: '30s', vary_on_claims: ['tenant'] },
        },
        {
          limits: {
            policies: {
              'per-user': { quota: '1000/day', window: 'fixed', key: 'claim:org.id', headers: true },
            },
          },
          cache: { max_size: '16mb' },
        },
      ),
    ),
    [],
  );
});

test('config errors name the exact key path', () => {
  const p = problems(
    base(
      {
        limits: [
          'nope',
          { rate: '5/s', quota: '10/min' },
          { rate: 'fast' },
          { quota: '10/min', burst: 3 },
          { rate: '1/s', key: 'user' },
        ],
      },
      { limits: { policies: { a: { rate: '1/s' } } } },
    ),
  );
  const joined = p.join('\n');
  assert.match(joined, /routes\[0\]\.limits\[1\]: set exactly one of `rate` \(smoothing\) or `quota`/);
  assert.match(joined, /routes\[0\]\.limits\[2\]\.rate: expected a rate like "10\/s"/);
  assert.match(joined, /routes\[0\]\.limits\[3\]\.burst: `burst` applies to `rate` only/);
  assert.match(
    joined,
    /routes\[0\]\.limits\[4\]\.key: expected subject, client_id, api_key, route, ip or claim:<path>/,
  );
});

test('an unknown policy reference is reported with its path and the known names', () => {
  const p = problems(base({ limits: ['nope'] }, { limits: { policies: { 'per-user': { rate: '1/s' } } } }));
  assert.deepEqual(p, ['routes[0].limits[0]: unknown limit policy "nope"; expected one of per-user']);
});

test('store redis without a redis section is refused', () => {
  const p = problems(base({}, { limits: { store: 'redis' } }));
  assert.ok(
    p.some((x) => x.startsWith('limits.redis: store "redis" needs `limits.redis`')),
    p.join('\n'),
  );
});

test('apikey without an api_keys section is refused at the route', () => {
  const p = problems(base({ auth: 'apikey' }));
  assert.ok(
    p.some((x) => x.startsWith('routes[0].auth: "apikey" needs a top-level `api_keys` section')),
    p.join('\n'),
  );
});

test('api key hashes must be sha256:<hex>', () => {
  const p = problems(
    base({ auth: 'apikey' }, { api_keys: { keys: [{ hash: 'plaintext-key', client_id: 'x' }] } }),
  );
  assert.ok(
    p.some((x) => x.startsWith('api_keys.keys[0].hash: expected "sha256:<64 lower-case hex>"')),
    p.join('\n'),
  );
});
