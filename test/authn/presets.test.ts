import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClaimMapper } from '../../src/authn/mapper.js';
import { presetFor } from '../../src/authn/presets.js';
import { providerSchema } from '../../src/authn/schema.js';
import { GatehouseError } from '../../src/errors/index.js';

function mapper(cfg: Record<string, unknown>): ClaimMapper {
  const p = providerSchema.parse({ issuer: 'https://idp', audiences: ['api://x'], ...cfg });
  return new ClaimMapper('p', presetFor(p));
}

describe('claim → principal presets', () => {
  it('Entra ID v2 user token: oid subject, scp, roles, groups, tid, azp', () => {
    const p = mapper({ preset: 'entra' }).map(
      {
        iss: 'https://login.microsoftonline.com/t/v2.0',
        sub: 'pairwise',
        oid: 'oid-1',
        tid: 'tenant-1',
        azp: 'spa',
        scp: 'Orders.Read Orders.Write',
        roles: ['Approver'],
        groups: ['g1'],
        name: 'Alice',
        preferred_username: 'alice@contoso.com',
        exp: 2e9,
      },
      'jwt',
      'abcdef0123456789',
    );
    assert.deepEqual(
      {
        kind: p.kind,
        subject: p.subject,
        tenant: p.tenant,
        clientId: p.clientId,
        scopes: p.scopes,
        roles: p.roles,
        groups: p.groups,
        name: p.name,
        overage: p.groupsOverage,
        credentialId: p.credentialId,
      },
      {
        kind: 'user',
        subject: 'oid-1',
        tenant: 'tenant-1',
        clientId: 'spa',
        scopes: ['Orders.Read', 'Orders.Write'],
        roles: ['Approver'],
        groups: ['g1'],
        name: 'Alice',
        overage: false,
        credentialId: 'abcdef0123456789',
      },
    );
  });

  it('Entra ID client-credentials tokens are kind client (idtyp app, or roles without scp); v1 appid', () => {
    const m = mapper({ preset: 'entra_v1' });
    const app = m.map({ oid: 'sp-1', appid: 'daemon', roles: ['Orders.ReadAll'], idtyp: 'app' }, 'jwt', 'x');
    assert.deepEqual([app.kind, app.clientId, app.roles], ['client', 'daemon', ['Orders.ReadAll']]);
    assert.equal(m.map({ oid: 'sp-1', appid: 'daemon', roles: ['R'] }, 'jwt', 'x').kind, 'client');
    assert.equal(
      m.map({ oid: 'u', appid: 'c', scp: 'user_impersonation', upn: 'bob@contoso.com' }, 'jwt', 'x').email,
      'bob@contoso.com',
    );
  });

  it('Entra ID groups overage is reported, not silently treated as no groups', () => {
    const m = mapper({ preset: 'entra' });
    assert.equal(
      m.map(
        { oid: 'u', scp: 's', _claim_names: { groups: 'src1' }, _claim_sources: { src1: {} } },
        'jwt',
        'x',
      ).groupsOverage,
      true,
    );
    assert.equal(m.map({ oid: 'u', scp: 's', hasgroups: true }, 'jwt', 'x').groupsOverage, true);
  });

  it('Okta: groups, scp array, cid; a client-credentials token (sub = cid) is a client', () => {
    const m = mapper({ preset: 'okta' });
    const u = m.map(
      {
        sub: 'alice@example.com',
        uid: '00u1',
        cid: '0oa-app',
        scp: ['openid', 'orders.read'],
        groups: ['Everyone', 'Admins'],
      },
      'jwt',
      'x',
    );
    assert.deepEqual(
      [u.kind, u.clientId, u.scopes, u.groups],
      ['user', '0oa-app', ['openid', 'orders.read'], ['Everyone', 'Admins']],
    );
    assert.equal(m.map({ sub: '0oa-svc', cid: '0oa-svc', scp: ['orders.sync'] }, 'jwt', 'x').kind, 'client');
  });

  it('Auth0: namespaced claims, scope + permissions, gty client-credentials', () => {
    const m = mapper({ preset: 'auth0', claims_namespace: 'https://example.com/' });
    const u = m.map(
      {
        sub: 'auth0|1',
        azp: 'spa',
        scope: 'openid read:orders',
        permissions: ['write:orders'],
        'https://example.com/roles': ['admin'],
        'https://example.com/email': 'a@example.com',
      },
      'jwt',
      'x',
    );
    assert.deepEqual(
      [u.kind, u.roles, u.scopes, u.email],
      ['user', ['admin'], ['openid', 'read:orders', 'write:orders'], 'a@example.com'],
    );
    assert.equal(
      m.map({ sub: 'abc@clients', azp: 'abc', gty: 'client-credentials' }, 'jwt', 'x').kind,
      'client',
    );
  });

  it('Keycloak: realm roles + resource_access roles of the audience client; service accounts are clients', () => {
    const m = mapper({ preset: 'keycloak', audiences: ['orders-api'] });
    const u = m.map(
      {
        sub: 'k1',
        azp: 'web',
        realm_access: { roles: ['user'] },
        resource_access: { 'orders-api': { roles: ['approver'] }, other: { roles: ['nope'] } },
        scope: 'openid email',
      },
      'jwt',
      'x',
    );
    assert.deepEqual([u.kind, u.roles, u.clientId], ['user', ['user', 'approver'], 'web']);
    assert.equal(
      m.map({ sub: 'k2', azp: 'batch', preferred_username: 'service-account-batch' }, 'jwt', 'x').kind,
      'client',
    );
  });

  it('Google: email, hd tenant; service accounts are clients', () => {
    const m = mapper({ preset: 'google' });
    const u = m.map({ sub: '1', email: 'a@corp.example', hd: 'corp.example', azp: 'x' }, 'jwt', 'x');
    assert.deepEqual([u.kind, u.tenant, u.email], ['user', 'corp.example', 'a@corp.example']);
    assert.equal(m.map({ sub: '2', email: 'ci@proj.iam.gserviceaccount.com' }, 'jwt', 'x').kind, 'client');
  });

  it('explicit claims: overrides (dotted paths) replace the preset', () => {
    const m = mapper({
      preset: 'generic',
      claims: { subject: 'user.id', groups: 'memberOf', tenant: 'org.id' },
    });
    const p = m.map(
      { sub: 'ignored', user: { id: 'u-9' }, memberOf: 'single-group', org: { id: 'o1' } },
      'jwt',
      'x',
    );
    assert.deepEqual([p.subject, p.groups, p.tenant], ['u-9', ['single-group'], 'o1']);
  });

  it('wrongly typed claims are refused, naming the claim', () => {
    const m = mapper({ preset: 'entra' });
    for (const claims of [
      { oid: 1 },
      { oid: 'u', roles: 'x', groups: [{}] },
      { oid: 'u', scp: 5 },
      { oid: 'u', tid: ['t'] },
    ]) {
      assert.throws(
        () => m.map(claims, 'jwt', 'x'),
        (e: unknown) =>
          e instanceof GatehouseError &&
          e.code === 'GH_TOKEN_INVALID' &&
          e.reasons[0] === 'token.claim_type' &&
          /claim "/.test(e.detail ?? ''),
      );
    }
  });
});
