// Mapping a signed-in principal to the AD account tickets are requested for (issue 17 item 1), and
// the strict account-name check that guards kvno's argv and the cache file names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileMapping, type MappingResult } from '../../src/kerberos/mapping.js';
import { userPrincipal } from '../../src/kerberos/names.js';
import { kerberosSchema } from '../../src/kerberos/schema.js';
import type { Principal } from '../../src/pipeline/principal.js';

const REALM = 'CORP.EXAMPLE';

function principal(over: Partial<Principal> = {}): Principal {
  return {
    kind: 'user',
    subject: 'sub-1',
    provider: 'staff',
    method: 'session',
    groups: [],
    roles: [],
    scopes: [],
    claims: {},
    ...over,
  };
}

function mapper(cfg: Record<string, unknown>, entra: string[] = []) {
  const issues: string[] = [];
  const k = kerberosSchema.parse({
    service_principal: 'svc-gateway@CORP.EXAMPLE',
    keytab: 'k',
    spn: 'HTTP/payroll.corp.example',
    ...cfg,
  });
  const map = compileMapping(k, REALM, new Set(entra), 'k', (p, m) => issues.push(`${p}: ${m}`));
  return { map, issues };
}

const user = (r: MappingResult): string => (r.ok ? r.user.name : `refused: ${r.reason}`);

test('a user template over claims; the realm is appended, or checked when given', () => {
  const { map, issues } = mapper({ user: '{claims.onprem_sam_account_name}' });
  assert.deepEqual(issues, []);
  assert.equal(user(map(principal({ claims: { onprem_sam_account_name: 'alice' } }))), 'alice@CORP.EXAMPLE');
  const withRealm = mapper({ user: '{email}' }).map;
  assert.equal(user(withRealm(principal({ email: 'bob@corp.example' }))), 'bob@CORP.EXAMPLE');
  assert.match(
    user(withRealm(principal({ email: 'bob@other.example' }))),
    /refused: .*realm OTHER\.EXAMPLE is not the configured realm/,
  );
  assert.match(user(map(principal())), /refused: user template gave no value/);
});

test('the table is looked up first by user_table_key, then the template applies', () => {
  const { map } = mapper({
    user_table: { 'alice@contoso.example': 'alice', 'sub-9': 'root9' },
    user: '{claims.sam}',
  });
  assert.equal(
    user(map(principal({ email: 'alice@contoso.example', claims: { sam: 'other' } }))),
    'alice@CORP.EXAMPLE',
  );
  assert.equal(
    user(map(principal({ email: 'x@contoso.example', claims: { sam: 'xavier' } }))),
    'xavier@CORP.EXAMPLE',
  );
  const bySub = mapper({ user_table: { 'sub-9': 'root9' }, user_table_key: '{sub}' }).map;
  assert.equal(user(bySub(principal({ subject: 'sub-9' }))), 'root9@CORP.EXAMPLE');
  assert.match(user(bySub(principal({ subject: 'sub-8' }))), /refused: no mapping applies/);
});

test('Entra ID providers default to onprem_sam_account_name, then a UPN in the realm; others map nothing', () => {
  const { map } = mapper({}, ['entra']);
  const entra = (claims: Record<string, unknown>) => map(principal({ provider: 'entra', claims }));
  assert.equal(
    user(entra({ onprem_sam_account_name: 'carol', upn: 'c.x@corp.example' })),
    'carol@CORP.EXAMPLE',
  );
  assert.equal(user(entra({ upn: 'dave@corp.example' })), 'dave@CORP.EXAMPLE');
  assert.match(
    user(entra({ upn: 'dave@contoso.onmicrosoft.com' })),
    /refused: Entra ID default .* gave no value/,
  );
  assert.match(
    user(map(principal({ provider: 'google', claims: { onprem_sam_account_name: 'x' } }))),
    /refused: no mapping applies/,
  );
});

test('no signed-in user, or a machine client, is never mapped', () => {
  const { map } = mapper({ user: '{sub}' });
  assert.match(user(map(undefined)), /refused: no signed-in user/);
  assert.match(user(map(principal({ kind: 'client' }))), /refused: not a user principal/);
});

test('account names are strict: nothing that could be an option, a path or another principal', () => {
  for (const bad of [
    '-Uroot',
    '--out-cache=x',
    '../etc/passwd',
    'a/b',
    'alice bob',
    'alice\nbob',
    'al"ice',
    'alice$',
    'ålice',
    '',
    'a'.repeat(65),
    'alice@corp.example@CORP.EXAMPLE',
    'HTTP/host',
  ]) {
    const r = userPrincipal(bad, REALM);
    assert.equal(typeof r, 'string', `${JSON.stringify(bad)} must be refused`);
  }
  for (const good of ['alice', 'a.b-c_d', 'A1', 'alice@corp.example', 'x'.repeat(64)]) {
    const r = userPrincipal(good, REALM);
    assert.notEqual(typeof r, 'string', `${good} must be accepted`);
  }
  const { map } = mapper({ user: '{claims.sam}' });
  assert.match(
    user(map(principal({ claims: { sam: '-Uadministrator' } }))),
    /refused: user template: not a valid account name/,
  );
  assert.match(
    user(map(principal({ claims: { sam: ['a', 'b'] } }))),
    /refused: user template: not a valid account name/,
  );
});

test('template mistakes and invalid table entries are reported at their key path', () => {
  assert.deepEqual(
    mapper({ user: '{nope}' }).issues.map((i) => i.split(':')[0]),
    ['k.user'],
  );
  assert.deepEqual(mapper({ user_table: { x: 'two words' } }).issues, [
    'k.user_table.x: "two words" is not a valid account name (letters, digits, ".", "_", "-"; at most 64 characters)',
  ]);
});
