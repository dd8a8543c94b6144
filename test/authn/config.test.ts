import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { memoryLogger } from './fixtures.js';

const ISS = 'https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0';

function problems(doc: Record<string, unknown>): string[] {
  try {
    const cfg = validateConfig(doc);
    const { logger } = memoryLogger();
    const state = compileState(cfg, { logger, baseDir: process.cwd(), dryRun: true });
    void state.close();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
  }
}

const base = (providers: Record<string, unknown>, route: Record<string, unknown> = {}) => ({
  upstreams: { app: { url: 'http://127.0.0.1:9' } },
  providers,
  routes: [
    {
      match: { path: '/api' },
      upstream: 'app',
      auth: 'bearer',
      rules: [{ name: 'any', effect: 'allow', when: { authenticated: true } }],
      ...route,
    },
  ],
});

describe('provider configuration errors name the exact key', () => {
  it('alg none is impossible; HS* needs a shared secret; audiences are required', () => {
    const p = problems(base({ e: { issuer: ISS, audiences: ['api://x'], algorithms: ['RS256', 'none'] } }));
    assert.equal(p.length, 1);
    assert.match(p[0] as string, /^providers\.e\.algorithms\[1\]: .*RS256/);
    assert.deepEqual(problems(base({ e: { issuer: ISS, audiences: ['api://x'], algorithms: ['HS256'] } })), [
      'providers.e.algorithms: HS256 requires shared_secret for this provider (HMAC keys are never taken from the JWKS)',
    ]);
    assert.match(
      problems(base({ e: { issuer: ISS } }))[0] as string,
      /^providers\.e\.audiences: audiences is required/,
    );
    assert.match(
      problems(
        base({ e: { issuer: ISS, audiences: ['x'], shared_secret: 'short', algorithms: ['HS256'] } }),
      )[0] as string,
      /^providers\.e\.shared_secret: expected at least 32/,
    );
    assert.match(
      problems(base({ e: { issuer: ISS, audiences: ['x'], discovery: false } }))[0] as string,
      /^providers\.e\.jwks_uri: jwks_uri is required when discovery is false/,
    );
    assert.match(
      problems(base({ e: { issuer: ISS, audiences: ['x'], preset: 'azure' } }))[0] as string,
      /^providers\.e\.preset: /,
    );
    assert.match(
      problems(base({ e: { issuer: ISS, audiences: ['x'], clock_skew: 'soon' } }))[0] as string,
      /^providers\.e\.clock_skew: expected a duration/,
    );
  });

  it('routes: unknown providers and authenticators; one introspecting provider and one provider per issuer', () => {
    assert.deepEqual(problems(base({ e: { issuer: ISS, audiences: ['x'] } }, { providers: ['e', 'okta'] })), [
      'routes[0].providers[1]: unknown provider "okta"; expected one of e',
    ]);
    const unknownAuth = problems(base({ e: { issuer: ISS, audiences: ['x'] } }, { auth: ['bearer', 'jwt'] }));
    assert.equal(unknownAuth.length, 1);
    assert.match(
      unknownAuth[0] as string,
      /^routes\[0\]\.auth: unknown authenticator "jwt"; expected one of none, .*bearer/,
    );
    assert.deepEqual(problems({ ...base({}), providers: undefined }), [
      'routes[0].auth: auth "bearer" needs at least one identity provider under `providers`',
    ]);
    const intro = { client_id: 'c', client_secret: 's', endpoint: 'https://idp/introspect' };
    const two = problems(
      base({
        a: { issuer: 'https://a', audiences: ['x'], introspection: intro },
        b: { issuer: 'https://b', audiences: ['x'], introspection: intro },
      }),
    );
    assert.match(
      two[0] as string,
      /^routes\[0\]\.providers: providers "a", "b" all introspect opaque tokens/,
    );
    const same = problems(
      base({ a: { issuer: ISS, audiences: ['x'] }, b: { issuer: ISS, audiences: ['y'] } }),
    );
    assert.match(same[0] as string, /^routes\[0\]\.providers: providers "a" and "b" share the issuer/);
    assert.deepEqual(
      problems(
        base(
          { a: { issuer: ISS, audiences: ['x'] }, b: { issuer: ISS, audiences: ['y'] } },
          { providers: ['b'] },
        ),
      ),
      [],
    );
  });

  it('insecure_allow_missing_audience is logged at warn when compiled', () => {
    const cfg = validateConfig(base({ cc: { issuer: ISS, insecure_allow_missing_audience: true } }));
    const { logger, lines } = memoryLogger();
    const state = compileState(cfg, { logger, baseDir: process.cwd(), dryRun: true });
    void state.close();
    const warn = lines.find(
      (l) => l.level === 40 && String(l.msg).includes('insecure_allow_missing_audience'),
    );
    assert.ok(warn, 'warned');
    assert.equal(warn.provider, 'cc');
  });

  it('token limits and the introspection budget: bad values name their key', () => {
    const intro = { client_id: 'gh', client_secret: 's', endpoint: 'https://as.example/introspect' };
    assert.deepEqual(
      problems(
        base({
          e: {
            issuer: ISS,
            audiences: ['x'],
            max_token_bytes: '32kb',
            max_token_lifetime: '10s',
            introspection: { ...intro, budget: 'lots', budget_burst: 0 },
          },
        }),
      ).sort(),
      [
        'providers.e.introspection.budget: expected a rate like "50/s", "600/min", got "lots"',
        'providers.e.introspection.budget_burst: Too small: expected number to be >=1',
        'providers.e.max_token_bytes: expected a size from 1kb to 16kb',
        'providers.e.max_token_lifetime: expected at least 1m',
      ],
    );
    assert.deepEqual(
      problems(
        base({
          e: {
            issuer: ISS,
            audiences: ['x'],
            max_token_bytes: '12kb',
            max_token_lifetime: '2d',
            introspection: { ...intro, budget: '600/min', budget_burst: 20 },
          },
        }),
      ),
      [],
    );
  });
});
