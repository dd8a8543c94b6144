import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ruleSchema, policiesSchema } from '../../src/authz/schema.js';
import { compilePolicy, decide, explainDecision, type CompiledPolicy } from '../../src/authz/policy.js';
import { compileClaimPath, readClaim } from '../../src/authz/claims.js';
import { emailDomain, type RequestInfo } from '../../src/authz/criteria.js';
import type { Principal } from '../../src/pipeline/principal.js';
import type { CompiledRoute } from '../../src/pipeline/route.js';
import type { Decision } from '../../src/pipeline/decision.js';

const rules = z.array(ruleSchema);

function pol(input: unknown[], now?: () => number, name = 'p'): CompiledPolicy {
  return compilePolicy(name, rules.parse(input), { now });
}

/** One allow rule over `when`. */
function allowWhen(when: unknown, now?: () => number): CompiledPolicy {
  return pol([{ name: 'r', effect: 'allow', when }], now);
}

function user(over: Partial<Principal> = {}): Principal {
  return {
    kind: 'user',
    subject: 'alice',
    provider: 'entra',
    method: 'jwt',
    groups: [],
    roles: [],
    scopes: [],
    claims: {},
    ...over,
  };
}

function req(over: Partial<RequestInfo> = {}): RequestInfo {
  return { method: 'GET', path: '/', clientIp: '127.0.0.1', route: undefined, ...over };
}

/** Evaluates through the fast path and the explain path and requires identical decisions. */
function run(
  p: CompiledPolicy | CompiledPolicy[],
  principal: Principal | undefined,
  r: RequestInfo = req(),
): Decision {
  const list = Array.isArray(p) ? p : [p];
  const fast = decide(list, principal, r);
  const slow = explainDecision(list, principal, r);
  assert.equal(slow.allow, fast.allow, 'explain and fast path disagree on allow');
  assert.deepEqual(slow.reasons, fast.reasons, 'explain and fast path disagree on reasons');
  assert.equal(slow.rule, fast.rule);
  assert.equal(!!slow.insufficientScope, !!fast.insufficientScope);
  return fast;
}

const allows = (p: CompiledPolicy, principal: Principal | undefined, r?: RequestInfo) =>
  run(p, principal, r).allow;

describe('identity criteria', () => {
  test('authenticated true/false', () => {
    assert.equal(allows(allowWhen({ authenticated: true }), user()), true);
    assert.equal(allows(allowWhen({ authenticated: true }), undefined), false);
    assert.equal(allows(allowWhen({ authenticated: false }), undefined), true);
    assert.equal(allows(allowWhen({ authenticated: false }), user()), false);
  });

  test('provider, subject, client_id, token_kind', () => {
    assert.equal(allows(allowWhen({ provider: 'entra' }), user()), true);
    assert.equal(allows(allowWhen({ provider: ['okta', 'auth0'] }), user()), false);
    assert.equal(allows(allowWhen({ provider: ['okta', 'entra'] }), user()), true);
    assert.equal(allows(allowWhen({ subject: 'alice' }), user()), true);
    assert.equal(allows(allowWhen({ subject: 'Alice' }), user()), false, 'subjects are case-sensitive');
    assert.equal(allows(allowWhen({ client_id: 'ci-bot' }), user({ clientId: 'ci-bot' })), true);
    assert.equal(allows(allowWhen({ client_id: 'ci-bot' }), user()), false);
    assert.equal(allows(allowWhen({ token_kind: 'client' }), user({ kind: 'client' })), true);
    assert.equal(allows(allowWhen({ token_kind: 'client' }), user()), false);
  });

  test('identity criteria never hold without an identity', () => {
    for (const when of [
      { subject: 'alice' },
      { group: 'g' },
      { claim: { path: 'x', exists: false } },
      { email_domain: 'corp.com' },
    ]) {
      assert.equal(allows(allowWhen(when), undefined), false, JSON.stringify(when));
    }
  });

  test('email: exact, case-insensitive, verified', () => {
    const p = allowWhen({ email: 'alice@corp.com' });
    assert.equal(allows(p, user({ email: 'alice@corp.com' })), true);
    assert.equal(allows(p, user({ email: 'Alice@CORP.com' })), true);
    assert.equal(allows(p, user({ email: 'alice@corp.com', claims: { email_verified: false } })), false);
    assert.equal(allows(p, user({ email: 'alice@corp.com', claims: { email_verified: 'false' } })), false);
    assert.equal(allows(p, user({ email: 'alice@corp.com', claims: { email_verified: true } })), true);
    assert.equal(allows(p, user()), false);
  });

  test('email_domain: strict parsing, exact domain, lower-case', () => {
    const p = allowWhen({ email_domain: 'corp.com' });
    assert.equal(allows(p, user({ email: 'bob@corp.com' })), true);
    assert.equal(allows(p, user({ email: 'bob@Corp.COM' })), true);
    assert.equal(allows(p, user({ email: 'bob@eu.corp.com' })), false, 'subdomains are not the domain');
    assert.equal(allows(p, user({ email: 'bob@corp.com.evil.io' })), false);
    assert.equal(allows(p, user({ email: 'bob@corp.com', claims: { email_verified: false } })), false);
    for (const bad of [
      'a@b@corp.com',
      '"a@b"@corp.com',
      '@corp.com',
      'bob@',
      'bob',
      'bob @corp.com',
      'bob@corp.com.',
      '<bob>@corp.com',
      'bob@corp.com\n',
    ]) {
      assert.equal(allows(p, user({ email: bad })), false, bad);
    }
    const evil = allowWhen({ email_domain: 'evil.com' });
    assert.equal(
      allows(evil, user({ email: '"a@corp.com"@evil.com' })),
      false,
      'quoted local part with @ is refused',
    );
    assert.equal(emailDomain('a@b@c.com'), undefined);
    assert.equal(emailDomain('"a@b"@evil.com'), undefined);
    assert.equal(emailDomain('x@Example.ORG'), 'example.org');
  });

  test('groups: one, any, all, with missing reasons', () => {
    const u = user({ groups: ['eng', 'ops'] });
    assert.equal(allows(allowWhen({ group: 'eng' }), u), true);
    assert.equal(allows(allowWhen({ groups_any: ['hr', 'ops'] }), u), true);
    assert.equal(allows(allowWhen({ groups_all: ['eng', 'ops'] }), u), true);
    const d = run(allowWhen({ groups_all: ['eng', 'admins', 'sec'] }), u);
    assert.equal(d.allow, false);
    assert.deepEqual(d.reasons, ['rule.default_deny', 'group.missing:admins', 'group.missing:sec']);
    assert.equal(d.rule, 'p');
    assert.equal(d.insufficientScope, undefined);
  });

  test('groups overage is reported, not silently treated as no groups', () => {
    const d = run(allowWhen({ group: 'admins' }), user({ groups: [], groupsOverage: true }));
    assert.equal(d.allow, false);
    assert.deepEqual(d.reasons, ['rule.default_deny', 'groups.overage', 'group.missing:admins']);
    const trace =
      explainDecision([allowWhen({ group: 'admins' })], user({ groupsOverage: true }), req()).trace ?? [];
    assert.ok(
      trace.some((t) => t.detail?.includes('groups overage')),
      "trace.some((t) => t.detail?.includes('groups overage'))",
    );
  });

  test('roles: one, any, all', () => {
    const u = user({ roles: ['Reports.Read'] });
    assert.equal(allows(allowWhen({ role: 'Reports.Read' }), u), true);
    assert.equal(allows(allowWhen({ role: 'reports.read' }), u), false, 'roles are case-sensitive');
    assert.equal(allows(allowWhen({ roles_any: ['Admin', 'Reports.Read'] }), u), true);
    assert.equal(allows(allowWhen({ roles_all: ['Admin', 'Reports.Read'] }), u), false);
    assert.deepEqual(run(allowWhen({ role: 'Admin' }), u).reasons, [
      'rule.default_deny',
      'role.missing:Admin',
    ]);
  });

  test('scopes: one, any, all; insufficient_scope only when scopes alone were missing', () => {
    const u = user({ kind: 'client', scopes: ['orders:read'] });
    assert.equal(allows(allowWhen({ scope: 'orders:read' }), u), true);
    assert.equal(allows(allowWhen({ scopes_any: ['a', 'orders:read'] }), u), true);
    assert.equal(allows(allowWhen({ scopes_all: ['orders:read', 'orders:write'] }), u), false);
    const d = run(allowWhen({ scopes_all: ['orders:read', 'orders:write'] }), u);
    assert.equal(d.insufficientScope, true);
    assert.deepEqual(d.reasons, ['rule.default_deny', 'scope.missing:orders:write']);
    const both = run(allowWhen({ scope: 'orders:write', group: 'ops' }), u);
    assert.equal(both.insufficientScope, undefined, 'a missing group is not fixed by more scopes');
    assert.deepEqual([...both.reasons].sort(), [
      'group.missing:ops',
      'rule.default_deny',
      'scope.missing:orders:write',
    ]);
    const denied = pol([
      { effect: 'allow', when: { scope: 'orders:write' } },
      { effect: 'deny', when: { scope: 'orders:write', token_kind: 'client' } },
    ]);
    assert.equal(run(denied, u).insufficientScope, undefined, 'more scope would hit a deny rule');
  });

  test('claim: equals, one_of, contains, exists, nested and array paths', () => {
    const u = user({
      claims: {
        tid: 't-1',
        realm_access: { roles: ['admin', 'user'] },
        resource_access: { 'my.app': { roles: ['editor'] } },
        'https://example.com/roles': ['billing'],
        level: 3,
        mfa: true,
        orgs: [{ id: 'o1' }, { id: 'o2' }],
        nothing: null,
      },
    });
    assert.equal(allows(allowWhen({ claim: { path: 'tid', equals: 't-1' } }), u), true);
    assert.equal(allows(allowWhen({ claim: { path: 'tid', equals: 't-2' } }), u), false);
    assert.equal(allows(allowWhen({ claim: { path: 'level', equals: 3 } }), u), true);
    assert.equal(allows(allowWhen({ claim: { path: 'level', equals: '3' } }), u), false, 'no type coercion');
    assert.equal(allows(allowWhen({ claim: { path: 'mfa', equals: true } }), u), true);
    assert.equal(allows(allowWhen({ claim: { path: 'tid', one_of: ['t-0', 't-1'] } }), u), true);
    assert.equal(
      allows(allowWhen({ claim: { path: 'realm_access.roles', one_of: ['admin'] } }), u),
      false,
      'arrays are not one_of a scalar list',
    );
    assert.equal(allows(allowWhen({ claim: { path: 'realm_access.roles', contains: 'admin' } }), u), true);
    assert.equal(allows(allowWhen({ claim: { path: 'realm_access.roles', contains: 'root' } }), u), false);
    assert.equal(
      allows(allowWhen({ claim: { path: 'tid', contains: 't' } }), u),
      false,
      'contains is for arrays',
    );
    assert.equal(
      allows(allowWhen({ claim: { path: ['resource_access', 'my.app', 'roles'], contains: 'editor' } }), u),
      true,
    );
    assert.equal(
      allows(allowWhen({ claim: { path: ['https://example.com/roles'], contains: 'billing' } }), u),
      true,
    );
    assert.equal(allows(allowWhen({ claim: { path: 'orgs.1.id', equals: 'o2' } }), u), true);
    assert.equal(allows(allowWhen({ claim: { path: 'orgs.5.id', exists: true } }), u), false);
    assert.equal(allows(allowWhen({ claim: { path: 'realm_access', exists: true } }), u), true);
    assert.equal(allows(allowWhen({ claim: { path: 'missing.deep', exists: false } }), u), true);
    assert.equal(allows(allowWhen({ claim: { path: 'nothing', exists: true } }), u), false, 'null is absent');
  });

  test('claim paths cannot reach prototypes', () => {
    for (const path of ['__proto__', 'a.constructor', 'x.prototype.y', ['a', '__proto__'], 'a..b', '.a']) {
      const r = rules.safeParse([{ effect: 'allow', when: { claim: { path, exists: true } } }]);
      assert.equal(r.success, false, JSON.stringify(path));
      assert.deepEqual(r.error?.issues[0]?.path, [0, 'when', 'claim', 'path']);
    }
    assert.throws(() => compileClaimPath('a.__proto__'));
    const claims = JSON.parse('{"a": {"b": 1}}') as Record<string, unknown>;
    assert.equal(readClaim(claims, compileClaimPath('toString')), undefined);
    assert.equal(readClaim(claims, compileClaimPath('a.hasOwnProperty')), undefined);
    assert.equal(readClaim(claims, compileClaimPath('a.b')), 1);
    assert.equal(allows(allowWhen({ claim: { path: 'toString', exists: true } }), user({ claims })), false);
  });

  test('claim needs exactly one operator', () => {
    assert.equal(rules.safeParse([{ effect: 'allow', when: { claim: { path: 'a' } } }]).success, false);
    assert.equal(
      rules.safeParse([{ effect: 'allow', when: { claim: { path: 'a', equals: 1, exists: true } } }]).success,
      false,
    );
  });
});

describe('request criteria', () => {
  test('method and methods are exact and case-sensitive', () => {
    const p = allowWhen({ methods: ['GET', 'POST'] });
    assert.equal(allows(p, user(), req({ method: 'POST' })), true);
    assert.equal(allows(p, user(), req({ method: 'DELETE' })), false);
    assert.equal(allows(allowWhen({ method: 'GET' }), user(), req({ method: 'HEAD' })), false);
    assert.equal(allows(allowWhen({ method: 'GET' }), user(), req({ method: 'get' })), false);
    assert.equal(rules.safeParse([{ effect: 'allow', when: { method: 'get' } }]).success, false);
  });

  test('path_prefix respects segment boundaries', () => {
    const p = allowWhen({ path_prefix: '/admin' });
    for (const [path, ok] of [
      ['/admin', true],
      ['/admin/', true],
      ['/admin/users', true],
      ['/administrator', false],
      ['/adminx/y', false],
      ['/ADMIN', false],
      ['/', false],
      ['/api/admin', false],
    ] as const) {
      assert.equal(allows(p, user(), req({ path })), ok, path);
    }
    const slash = allowWhen({ path_prefix: '/admin/' });
    assert.equal(allows(slash, user(), req({ path: '/admin/x' })), true);
    assert.equal(allows(slash, user(), req({ path: '/adminx' })), false);
    const ci = { caseInsensitive: true } as CompiledRoute;
    assert.equal(
      allows(p, user(), req({ path: '/ADMIN/Users', route: ci })),
      true,
      'case-insensitive routes compare case-insensitively',
    );
    assert.equal(allows(allowWhen({ path_prefix: '/' }), user(), req({ path: '/anything' })), true);
  });

  test('source_ip: IPv4 and IPv6 CIDRs, single addresses, mapped addresses', () => {
    const p = allowWhen({ source_ip: ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1'] });
    for (const [ip, ok] of [
      ['10.1.2.3', true],
      ['11.0.0.1', false],
      ['192.168.1.7', true],
      ['192.168.1.8', false],
      ['2001:db8:1::5', true],
      ['2001:db9::1', false],
      ['::1', true],
      ['::ffff:10.9.9.9', true],
      ['not-an-ip', false],
      ['', false],
    ] as const) {
      assert.equal(allows(p, user(), req({ clientIp: ip })), ok, ip);
    }
    for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0', 'localhost', '10.0.0.0/']) {
      assert.equal(rules.safeParse([{ effect: 'allow', when: { source_ip: bad } }]).success, false, bad);
    }
  });

  test('time_window in UTC and in an IANA zone across DST', () => {
    let now = Date.UTC(2024, 0, 8, 9, 30); // Monday 09:30 UTC
    const clock = () => now;
    const p = allowWhen(
      { time_window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' } },
      clock,
    );
    assert.equal(allows(p, user()), true);
    now = Date.UTC(2024, 0, 8, 17, 0); // 17:00 is exclusive
    assert.equal(allows(p, user()), false);
    now = Date.UTC(2024, 0, 8, 8, 59);
    assert.equal(allows(p, user()), false);
    now = Date.UTC(2024, 0, 13, 10, 0); // Saturday
    assert.equal(allows(p, user()), false);

    const paris = allowWhen({ time_window: { from: '09:00', to: '17:00', tz: 'Europe/Paris' } }, clock);
    now = Date.UTC(2024, 0, 8, 8, 30); // winter: 09:30 in Paris
    assert.equal(allows(paris, user()), true);
    now = Date.UTC(2024, 6, 8, 7, 30); // summer: 09:30 in Paris (UTC+2)
    assert.equal(allows(paris, user()), true);
    now = Date.UTC(2024, 6, 8, 15, 30); // summer: 17:30 in Paris
    assert.equal(allows(paris, user()), false);
  });

  test('overnight time_window belongs to the day it opens', () => {
    let now = 0;
    const p = allowWhen({ time_window: { days: ['fri'], from: '22:00', to: '06:00' } }, () => now);
    now = Date.UTC(2024, 0, 12, 23, 0); // Friday 23:00
    assert.equal(allows(p, user()), true);
    now = Date.UTC(2024, 0, 13, 2, 0); // Saturday 02:00
    assert.equal(allows(p, user()), true);
    now = Date.UTC(2024, 0, 13, 6, 0); // Saturday 06:00
    assert.equal(allows(p, user()), false);
    now = Date.UTC(2024, 0, 13, 23, 0); // Saturday 23:00
    assert.equal(allows(p, user()), false);
    now = Date.UTC(2024, 0, 12, 2, 0); // Friday 02:00 (Thursday's night is closed)
    assert.equal(allows(p, user()), false);
  });

  test('time_window config is validated', () => {
    const bad = [
      { from: '9:00', to: '17:00' },
      { from: '09:00', to: '25:00' },
      { from: '09:00', to: '09:00' },
      { from: '09:00', to: '17:00', tz: 'Mars/Olympus' },
      { from: '09:00', to: '17:00', days: ['monday'] },
    ];
    for (const tw of bad)
      assert.equal(
        rules.safeParse([{ effect: 'allow', when: { time_window: tw } }]).success,
        false,
        JSON.stringify(tw),
      );
  });
});

describe('combinators and evaluation order', () => {
  test('all / any / not, nested, and several keys as an implicit all', () => {
    const u = user({ groups: ['eng'], roles: ['dev'] });
    assert.equal(allows(allowWhen({ all: [{ group: 'eng' }, { role: 'dev' }] }), u), true);
    assert.equal(allows(allowWhen({ all: [{ group: 'eng' }, { role: 'ops' }] }), u), false);
    assert.equal(allows(allowWhen({ any: [{ group: 'hr' }, { role: 'dev' }] }), u), true);
    assert.equal(allows(allowWhen({ any: [{ group: 'hr' }, { role: 'ops' }] }), u), false);
    assert.equal(allows(allowWhen({ not: { group: 'contractors' } }), u), true);
    assert.equal(allows(allowWhen({ not: { group: 'eng' } }), u), false);
    assert.equal(allows(allowWhen({ group: 'eng', role: 'dev' }), u), true);
    assert.equal(allows(allowWhen({ group: 'eng', role: 'ops' }), u), false);
    const nested = allowWhen({
      any: [{ all: [{ group: 'eng' }, { not: { role: 'intern' } }] }, { group: 'admins' }],
    });
    assert.equal(allows(nested, u), true);
    assert.equal(allows(nested, user({ groups: ['eng'], roles: ['intern'] })), false);
    assert.equal(allows(nested, user({ groups: ['admins'], roles: ['intern'] })), true);
  });

  test('a matching deny wins over any allow, whatever the order', () => {
    const p = pol(
      [
        { name: 'staff', effect: 'allow', when: { group: 'staff' } },
        { name: 'no-contractors', effect: 'deny', when: { group: 'contractors' } },
      ],
      undefined,
      'admins',
    );
    const d = run(p, user({ groups: ['staff', 'contractors'] }));
    assert.equal(d.allow, false);
    assert.deepEqual(d.reasons, ['rule.deny']);
    assert.equal(d.rule, 'admins/no-contractors');
    const ok = run(p, user({ groups: ['staff'] }));
    assert.deepEqual([ok.allow, ok.reasons, ok.rule], [true, ['rule.allow'], 'admins/staff']);
  });

  test('nothing matched: default deny', () => {
    const p = pol([{ effect: 'allow', when: { group: 'a' } }], undefined, 'x');
    const d = run(p, user());
    assert.deepEqual([d.allow, d.reasons[0], d.rule], [false, 'rule.default_deny', 'x']);
  });

  test('unnamed rules are named by position', () => {
    const p = pol(
      [
        { effect: 'deny', when: { subject: 'mallory' } },
        { effect: 'allow', when: { authenticated: true } },
      ],
      undefined,
      'routes[3]',
    );
    assert.equal(run(p, user({ subject: 'mallory' })).rule, 'routes[3]/rules[0]');
    assert.equal(run(p, user()).rule, 'routes[3]/rules[1]');
  });

  test('several policies: all must allow; the first denial decides', () => {
    const a = pol([{ name: 'eng', effect: 'allow', when: { group: 'eng' } }], undefined, 'a');
    const b = pol([{ name: 'office', effect: 'allow', when: { source_ip: '10.0.0.0/8' } }], undefined, 'b');
    const inOffice = req({ clientIp: '10.0.0.5' });
    const d = run([a, b], user({ groups: ['eng'] }), inOffice);
    assert.deepEqual([d.allow, d.rule], [true, 'a/eng,b/office']);
    const out = run([a, b], user({ groups: ['eng'] }), req({ clientIp: '8.8.8.8' }));
    assert.deepEqual([out.allow, out.rule, out.reasons[0]], [false, 'b', 'rule.default_deny']);
    assert.equal(run([a, b], user(), inOffice).rule, 'a');
  });

  test('explain records each rule, each criterion and the decision', () => {
    const p = pol(
      [
        { name: 'block', effect: 'deny', when: { source_ip: '203.0.113.0/24' } },
        { name: 'admins', effect: 'allow', when: { all: [{ group: 'admins' }, { method: 'GET' }] } },
      ],
      undefined,
      'pol',
    );
    const d = explainDecision([p], user({ groups: ['eng'] }), req());
    const trace = d.trace ?? [];
    const checks = trace.map((t) => t.check.trim());
    assert.ok(checks.includes('policy pol'), "checks.includes('policy pol')");
    assert.ok(checks.includes('rule pol/block (deny)'), "checks.includes('rule pol/block (deny)')");
    assert.ok(checks.includes('rule pol/admins (allow)'), "checks.includes('rule pol/admins (allow)')");
    const grp = trace.find((t) => t.check.includes('group "admins"'));
    assert.equal(grp?.pass, false);
    assert.match(grp?.detail ?? '', /groups: \["eng"\]/);
    assert.equal(trace.find((t) => t.check.includes('method'))?.pass, true);
    const last = trace[trace.length - 1];
    assert.equal(last?.check, 'decision');
    assert.equal(last?.pass, false);
    assert.match(last?.detail ?? '', /rule\.default_deny/);
  });
});

describe('schema', () => {
  test('unknown criterion keys are errors at their exact path', () => {
    const r = policiesSchema.safeParse({
      admins: { rules: [{ effect: 'allow', when: { any: [{ group: 'a' }, { groupz: 'b' }] } }] },
    });
    assert.equal(r.success, false);
    const issue = r.error?.issues.find((i) => i.code === 'unrecognized_keys');
    assert.deepEqual(issue?.path, ['admins', 'rules', 0, 'when', 'any', 1]);
    assert.match(issue?.message ?? '', /groupz/);
  });

  test('empty criteria, bad effects and empty policies are refused', () => {
    assert.equal(rules.safeParse([{ effect: 'allow', when: {} }]).success, false);
    assert.equal(rules.safeParse([{ effect: 'permit', when: { group: 'a' } }]).success, false);
    assert.equal(rules.safeParse([{ effect: 'allow' }]).success, false);
    assert.equal(policiesSchema.safeParse({ p: { rules: [] } }).success, false);
    assert.equal(
      rules.safeParse([{ effect: 'allow', when: { scope: 'a"b' } }]).success,
      false,
      'scopes cannot break the header',
    );
    assert.equal(rules.safeParse([{ effect: 'allow', when: { email_domain: '*.corp.com' } }]).success, false);
  });
});
