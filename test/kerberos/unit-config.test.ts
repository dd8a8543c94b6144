// Configuration of auth.kerberos (issue 17 item 1): every mistake names its key path and what was
// expected, at schema validation or at compile time, before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigError } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { silentLogger } from '../../src/log/logger.js';
import { loadGss } from '../../src/kerberos/negotiate.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-krb-config-'));
const keytab = join(dir, 'gw.keytab');
writeFileSync(keytab, Buffer.from([5, 2]));

function problems(yaml: string, compile = false): string[] {
  try {
    const cfg = parseConfig(yaml, {});
    if (compile) compileState(cfg, { logger: silentLogger(), baseDir: dir, dryRun: true });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

const krb = (extra = '', upstreamExtra = '') => `upstreams:
  payroll:
    url: http://127.0.0.1:8080
${upstreamExtra}    auth:
      kerberos:
        service_principal: svc-gateway@CORP.TEST
        keytab: gw.keytab
        spn: HTTP/iis.corp.test
${extra}routes:
  - { match: { path: / }, upstream: payroll, auth: none }
`;

function has(list: string[], re: RegExp): void {
  assert.ok(
    list.some((l) => re.test(l)),
    `expected a problem matching ${re}, got:\n${list.join('\n') || '(none)'}`,
  );
}

test('a complete auth.kerberos compiles', () => {
  assert.deepEqual(problems(krb('        user: "{claims.onprem_sam_account_name}"\n'), true), []);
});

test('required keys and shapes are named by key path', () => {
  const p = problems(`upstreams:
  payroll:
    url: http://127.0.0.1:8080
    auth:
      kerberos:
        service_principal: svc-gateway
        spn: iis.corp.test
        realm: corp.test
        max_users: 0
        colour: blue
`);
  has(
    p,
    /^upstreams\.payroll\.auth\.kerberos\.service_principal: expected the gateway account as name@REALM/,
  );
  has(p, /^upstreams\.payroll\.auth\.kerberos\.keytab: /);
  has(p, /^upstreams\.payroll\.auth\.kerberos\.spn: expected a service principal name such as HTTP\//);
  has(p, /^upstreams\.payroll\.auth\.kerberos\.realm: expected an upper-case realm/);
  has(p, /^upstreams\.payroll\.auth\.kerberos\.max_users: /);
  has(p, /^upstreams\.payroll\.auth\.kerberos\.colour: unknown key/);
});

test('a farm or a health check is refused with auth.kerberos (one target, requests only)', () => {
  const p = problems(`upstreams:
  payroll:
    targets: [{ url: "http://127.0.0.1:1" }, { url: "http://127.0.0.1:2" }]
    auth:
      kerberos: { service_principal: svc@CORP.TEST, keytab: k, spn: HTTP/iis.corp.test }
`);
  has(p, /^upstreams\.payroll\.targets: auth\.kerberos needs a single url/);
});

test('an unreadable keytab and a broken user template are found at compile time', () => {
  const p = problems(
    krb('        user: "{claims.sam"\n        user_table: { "a@example.com": "bad name" }\n').replace(
      'keytab: gw.keytab',
      'keytab: missing.keytab',
    ),
    true,
  );
  has(p, /^upstreams\.payroll\.auth\.kerberos\.keytab: cannot read file .*missing\.keytab: ENOENT/);
  has(p, /^upstreams\.payroll\.auth\.kerberos\.user: unclosed "\{"/);
  has(
    p,
    /^upstreams\.payroll\.auth\.kerberos\.user_table\.a@example\.com: "bad name" is not a valid account name/,
  );
});

test('two Kerberos upstreams must share the gateway account (process-wide caches)', () => {
  const yaml = `${krb()}`.replace(
    'routes:',
    `  other:
    url: http://127.0.0.1:8081
    auth:
      kerberos: { service_principal: svc-other@CORP.TEST, keytab: gw.keytab, spn: HTTP/other.corp.test }
routes:`,
  );
  has(
    problems(yaml, true),
    /^upstreams\.other\.auth\.kerberos: service_principal, keytab, krb5_conf and realm must be the same as in upstreams\.payroll\.auth\.kerberos/,
  );
});

test('WebSocket upgrades to a Kerberos upstream are refused at load', () => {
  const yaml = krb().replace(
    'upstream: payroll, auth: none }',
    'upstream: payroll, auth: none, websocket: true }',
  );
  has(
    problems(yaml, true),
    /^routes\[0\]\.websocket: WebSocket upgrades are not supported to an upstream with auth\.kerberos/,
  );
});

test('without the MIT tools in PATH the config does not load, with the install hint (fail closed)', () => {
  const path = process.env.PATH;
  process.env.PATH = mkdtempSync(join(tmpdir(), 'gh-krb-empty-path-'));
  try {
    has(
      problems(krb(), true),
      /^upstreams\.payroll\.auth\.kerberos: kinit and kvno not found in PATH: install MIT Kerberos client tools \(Debian\/Ubuntu: apt-get install krb5-user/,
    );
  } finally {
    process.env.PATH = path;
  }
});

test('without the native kerberos module: the reason carries the install hint', () => {
  const r = loadGss(() => {
    throw new Error("Cannot find module 'kerberos'\nRequire stack: …");
  });
  assert.equal(typeof r, 'string');
  assert.match(
    r as string,
    /needs the optional npm package "kerberos".*npm_config_build_from_source=true npm install kerberos \(Cannot find module 'kerberos'\)$/,
  );
  assert.notEqual(typeof loadGss(), 'string', 'the real module is installed here');
});
