import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';

const SECRET = 'config-test-secret-0123456789abcdef-0123';

function doc(
  over: {
    server?: object;
    session?: Record<string, unknown>;
    login?: Record<string, unknown>;
    issuer?: string;
  } = {},
): Record<string, unknown> {
  return {
    server: { external_url: 'https://gate.example.com', ...over.server },
    upstreams: { app: { url: 'http://127.0.0.1:9' } },
    providers: { corp: { issuer: over.issuer ?? 'https://login.example.com', audiences: ['gh'] } },
    session: {
      secrets: [SECRET],
      ...over.session,
      login: { provider: 'corp', client_id: 'gh', client_secret: 'shh', ...over.login },
    },
    routes: [{ upstream: 'app', auth: 'session', allow: 'authenticated' }],
  };
}

function problems(d: Record<string, unknown>): string[] {
  try {
    const cfg = validateConfig(d);
    const state = compileState(cfg, { logger: pino({ level: 'silent' }), baseDir: '.', dryRun: true });
    void state.close();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
  }
}

test('a complete session config compiles', () => {
  assert.deepEqual(problems(doc()), []);
});

test('session config errors name the exact key path', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      doc({ server: { external_url: undefined } }),
      /^server\.external_url: required when `session` is configured/,
    ],
    [
      doc({ login: { provider: 'nope' } }),
      /^session\.login\.provider: unknown provider "nope"; expected one of corp/,
    ],
    [
      doc({ issuer: 'http://127.0.0.1:9000' }),
      /^session\.login\.insecure_allow_http: provider "corp" is not https/,
    ],
    [
      doc({ server: { external_url: 'http://gate.example.com' }, session: { cookie_name: '__Host-x' } }),
      /^session\.cookie_name: .*needs https/,
    ],
    [doc({ session: { store: 'redis' } }), /^session\.redis: required when store is "redis"/],
    [
      doc({ login: { client_secret: undefined } }),
      /^session\.login\.client_secret: required with token_endpoint_auth_method/,
    ],
    [doc({ session: { secrets: ['short'] } }), /^session\.secrets\[0\]: expected at least 32 characters/],
    [doc({ login: { scopes: ['profile'] } }), /^session\.login\.scopes: must include "openid"/],
    [
      doc({ login: { redirect_path: '/callback' } }),
      /^session\.login\.redirect_path: expected a path under \/\.gatehouse\//,
    ],
    [
      doc({ login: { post_logout_redirect_uri: 'https://evil.example/' } }),
      /^session\.login\.post_logout_redirect_uri: must be on server\.external_url/,
    ],
    [doc({ session: { idle_timeout: '2d' } }), /^session\.idle_timeout: must not exceed absolute_lifetime/],
    [
      doc({ server: { external_url: 'http://gate.example.com' }, login: { insecure_allow_http: true } }),
      /^session\.insecure_http_cookies: server\.external_url is plain http/,
    ],
  ];
  for (const [d, re] of cases) {
    const p = problems(d);
    assert.ok(
      p.some((x) => re.test(x)),
      `${re}: got ${JSON.stringify(p)}`,
    );
  }
});

test('auth: session without a session section is a config error on the route', () => {
  const d = doc();
  delete d.session;
  assert.ok(
    problems(d).some((p) => /^routes\[0\]\.auth: "session" needs a top-level `session` section/.test(p)),
    'problems(d).some((p) => /^routes\\[0\\]\\.auth: "session" needs a top-level `session` section/.test(p))',
  );
});

test('https external URL gives the __Host- cookie; http gives gatehouse_session', async () => {
  for (const [url, name] of [
    ['https://gate.example.com', '__Host-gatehouse'],
    ['http://127.0.0.1:8080', 'gatehouse_session'],
  ] as const) {
    const cfg = validateConfig(
      doc({
        server: { external_url: url },
        session: { insecure_http_cookies: url.startsWith('http:') },
        login: { insecure_allow_http: true },
      }),
    );
    const state = compileState(cfg, { logger: pino({ level: 'silent' }), baseDir: '.', dryRun: true });
    assert.equal((state.services.get('session') as { cookieName: string }).cookieName, name);
    await state.close();
  }
});
