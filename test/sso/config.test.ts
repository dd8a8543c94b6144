import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { SsoHosts } from '../../src/sso/hosts.js';
import { EstateBrowser, isHandoff, startEstate } from './estate.js';

const SECRET = 'sso-config-test-secret-0123456789abcdef-0123';

function doc(sso: Record<string, unknown> | undefined, server: object = {}): Record<string, unknown> {
  return {
    server: { external_url: 'https://login.example.com', ...server },
    upstreams: { app: { url: 'http://127.0.0.1:9' } },
    providers: { corp: { issuer: 'https://idp.example.com', audiences: ['gh'] } },
    session: {
      secrets: [SECRET],
      ...(sso === undefined ? {} : { sso }),
      login: { provider: 'corp', client_id: 'gh', client_secret: 'shh' },
    },
    routes: [{ upstream: 'app', auth: 'session', allow: 'authenticated' }],
  };
}

function problems(d: Record<string, unknown>): string[] {
  try {
    const state = compileState(validateConfig(d), {
      logger: pino({ level: 'silent' }),
      baseDir: '.',
      dryRun: true,
    });
    void state.close();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
  }
}

test('session.sso compiles with exact and wildcard hosts, and login_url names the login host', () => {
  assert.deepEqual(
    problems(doc({ hosts: ['https://hr.example.com', 'https://*.apps.example.org:8443'] })),
    [],
  );
  assert.deepEqual(
    problems(
      doc(
        { login_url: 'https://sso.example.com', hosts: ['https://hr.example.com'] },
        { external_url: undefined },
      ),
    ),
    [],
    'login_url stands in for server.external_url',
  );
});

test('session.sso config errors name the exact key path', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [doc({ hosts: [] }), /^session\.sso\.hosts: expected at least one app origin/],
    [doc({ hosts: ['https://hr.example.com/app'] }), /^session\.sso\.hosts\[0\]: expected an origin/],
    [
      doc({ hosts: ['https://ok.example.com', 'hr.example.com'] }),
      /^session\.sso\.hosts\[1\]: expected an origin/,
    ],
    [doc({ hosts: ['https://user@hr.example.com'] }), /^session\.sso\.hosts\[0\]: expected an origin/],
    [
      doc({ hosts: ['http://hr.example.com'] }),
      /^session\.sso\.hosts\[0\]: must use the login host's scheme \(https/,
    ],
    [doc({ hosts: ['https://login.example.com'] }), /^session\.sso\.hosts\[0\]: is the login host/],
    [
      doc({ hosts: ['https://hr.example.com'], handoff_ttl: '2m' }),
      /^session\.sso\.handoff_ttl: expected 1s to 60s/,
    ],
    [
      doc({ hosts: ['https://hr.example.com'], login_url: 'https://login.example.com/sso' }),
      /^session\.sso\.login_url: expected an origin/,
    ],
    [doc({ hosts: ['https://hr.example.com'], extra: 1 }), /^session\.sso\.extra: unknown key/],
  ];
  for (const [d, re] of cases) {
    const p = problems(d);
    assert.ok(
      p.some((x) => re.test(x)),
      `${re} not in ${JSON.stringify(p)}`,
    );
  }
});

test('SsoHosts: exact hosts with their port, wildcards, the login host is never an app host', () => {
  const h = new SsoHosts('https://login.example.com', [
    'https://hr.example.com',
    'https://pay.example.com:8443',
    'https://*.apps.example.org',
  ]);
  assert.equal(h.originOf('HR.example.com'), 'https://hr.example.com');
  assert.equal(
    h.originOf('hr.example.com:443'),
    undefined,
    'Host header with a port the origin does not have',
  );
  assert.equal(h.originOf('pay.example.com:8443'), 'https://pay.example.com:8443');
  assert.equal(h.originOf('pay.example.com'), undefined);
  assert.equal(h.originOf('wiki.apps.example.org'), 'https://wiki.apps.example.org');
  assert.equal(h.originOf('a.b.apps.example.org:443'), 'https://a.b.apps.example.org');
  assert.equal(h.originOf('apps.example.org'), undefined, 'the wildcard needs a label');
  assert.equal(h.originOf('evilapps.example.org'), undefined);
  assert.equal(h.originOf('login.example.com'), undefined);
  assert.equal(h.loginHost, 'login.example.com');
});

test('SsoHosts.safeAppUrl: only listed hosts, never an open redirect', () => {
  const h = new SsoHosts('https://login.example.com', [
    'https://hr.example.com',
    'https://*.apps.example.org',
  ]);
  assert.equal(h.safeAppUrl('https://hr.example.com/a?b=1#c'), 'https://hr.example.com/a?b=1#c');
  assert.equal(h.safeAppUrl('https://x.apps.example.org/'), 'https://x.apps.example.org/');
  for (const bad of [
    'https://evil.example/',
    'https://hr.example.com.evil.example/',
    'https://user@hr.example.com/',
    'http://hr.example.com/',
    'https://hr.example.com:444/',
    'https://hr.example.com/%09/evil',
    'https://hr.example.com/\\evil',
    'https://login.example.com/',
    'javascript:alert(1)',
    '//hr.example.com/',
  ])
    assert.equal(h.safeAppUrl(bad), undefined, bad);
});

test('an expired handoff is refused (GH_SSO_HANDOFF_EXPIRED)', async () => {
  const f = await startEstate({ handoffTtl: '1s' });
  try {
    const b = new EstateBrowser();
    await b.signIn(`${f.intranet}/`, 'alice');
    const stop = await b.navigate(`${f.payroll}/`, isHandoff);
    await new Promise((r) => setTimeout(r, 2100));
    const page = await b.send(stop.url);
    assert.equal(page.status, 400);
    assert.match(page.body, /GH_SSO_HANDOFF_EXPIRED/);
    assert.equal(
      f.gateways[0]!.audit.filter((a) => a.type === 'sso.handoff.failed').at(-1)?.error,
      'GH_SSO_HANDOFF_EXPIRED',
    );
    await b.close();
  } finally {
    await f.close();
  }
});
