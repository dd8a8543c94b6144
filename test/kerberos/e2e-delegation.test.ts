// End to end (issue 17 item 4): OIDC sign-in at a real provider, then Gatehouse reaches the
// Negotiate-only IIS stand-in as the mapped AD user through Kerberos constrained delegation
// (S4U2Self + S4U2Proxy) against the throwaway Samba AD domain.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/ports.js';
import { startKerberosE2e, whoami, type KerberosE2e } from './e2e-fixture.js';

let f: KerberosE2e;

/** Lines in the stand-in's log for requests that came without any credentials. */
function unauthenticatedAtStandin(): number {
  return (f.iis.errorLog().match(/NO AUTH DATA/g) ?? []).length;
}

before(async () => {
  f = await startKerberosE2e();
});

after(async () => {
  await f?.close();
});

test('alice signs in with OpenID Connect and the IIS app sees alice@CORP.TEST with her AD groups', async () => {
  const { browser, page } = await f.login('alice', '/payroll/home');
  const who = whoami(page);
  assert.equal(who.user, 'alice@CORP.TEST');
  assert.equal(who.path, '/payroll/home');
  const pac = await f.ad.pacIdentity(who.attrs);
  assert.equal(pac.account, 'alice');
  assert.deepEqual([...pac.groups].sort(), ['Domain Users', 'payroll-admins'], 'her AD groups reach the app');
  const again = whoami(await f.get(browser, '/payroll/other'));
  assert.equal(again.user, 'alice@CORP.TEST');
  assert.equal(again.path, '/payroll/other');
  const event = f.gw.audit.find((e) => e.type === 'request' && e.path === '/payroll/other');
  assert.ok(event, 'the request is audited');
  assert.equal(event.status, 200);
  assert.equal(event.upstream_status, 200);
});

test('two users on concurrent connections never see each other identity', async () => {
  const alice = (await f.login('alice')).browser;
  const carol = (await f.login('carol')).browser;
  const rounds = 12;
  const jobs: Array<Promise<[string, string]>> = [];
  for (let i = 0; i < rounds; i++) {
    for (const [name, b] of [
      ['alice', alice],
      ['carol', carol],
    ] as const) {
      jobs.push(f.get(b, `/payroll/${name}/${i}`).then((p) => [name, whoami(p).user]));
    }
  }
  const seen = await Promise.all(jobs);
  for (const [name, user] of seen) assert.equal(user, `${name}@CORP.TEST`);
  const carolPac = await f.ad.pacIdentity(whoami(await f.get(carol, '/payroll/groups')).attrs);
  assert.deepEqual(
    [...carolPac.groups].sort(),
    ['Domain Users', 'hr'],
    'carol has her own groups, not alice',
  );
  // Sequential interleaving on warm, pinned connections as well.
  for (let i = 0; i < 6; i++) {
    assert.equal(whoami(await f.get(alice, `/seq/a${i}`)).user, 'alice@CORP.TEST');
    assert.equal(whoami(await f.get(carol, `/seq/c${i}`)).user, 'carol@CORP.TEST');
  }
});

test('a user the provider knows but the mapping does not is refused with 403 GH_KERBEROS_UNMAPPED, audited, never sent upstream', async () => {
  const before = unauthenticatedAtStandin();
  const { browser, page } = await f.login('eve');
  assert.equal(page.status, 403, page.body);
  const r = await f.get(browser, '/payroll/x');
  assert.equal(r.status, 403);
  assert.equal(JSON.parse(r.body).error, 'GH_KERBEROS_UNMAPPED');
  assert.doesNotMatch(r.body, /CORP\.TEST/);
  const event = f.gw.audit.find((e) => e.type === 'request' && e.path === '/payroll/x' && e.status === 403);
  assert.ok(event, 'audited');
  assert.equal(event.error, 'GH_KERBEROS_UNMAPPED');
  assert.equal(event.upstream_status, undefined, 'not forwarded');
  assert.equal(unauthenticatedAtStandin(), before, 'no request without credentials reached IIS');
});

test('a mapped account that AD does not know is refused with 403 GH_KERBEROS_UNKNOWN_USER', async () => {
  const before = unauthenticatedAtStandin();
  const { browser } = await f.login('dave');
  const r = await f.get(browser, '/payroll/dave');
  assert.equal(r.status, 403, r.body);
  assert.equal(JSON.parse(r.body).error, 'GH_KERBEROS_UNKNOWN_USER');
  assert.equal(unauthenticatedAtStandin(), before);
});

test('a user AD does not allow to be delegated (sensitive account) is refused with 403 GH_KERBEROS_DELEGATION_DENIED; others keep working', async () => {
  await f.ad.setSensitive('bob', true);
  try {
    const before = unauthenticatedAtStandin();
    const { browser } = await f.login('bob');
    const r = await f.get(browser, '/payroll/bob');
    assert.equal(r.status, 403, r.body);
    assert.equal(JSON.parse(r.body).error, 'GH_KERBEROS_DELEGATION_DENIED');
    const event = f.gw.audit.find((e) => e.type === 'request' && e.path === '/payroll/bob');
    assert.equal(event?.error, 'GH_KERBEROS_DELEGATION_DENIED');
    assert.equal(unauthenticatedAtStandin(), before, 'no request without credentials reached IIS');
    const alice = (await f.login('alice')).browser;
    assert.equal(whoami(await f.get(alice, '/payroll/still')).user, 'alice@CORP.TEST');
  } finally {
    await f.ad.setSensitive('bob', false);
  }
});

test('when the app leaves the gateway account msDS-AllowedToDelegateTo, a new user gets 403 GH_KERBEROS_DELEGATION_DENIED; restored, she gets in', async () => {
  await f.ad.addUser('frank', ['payroll-admins']);
  await f.ad.disallowDelegation('HTTP/iis.corp.test');
  let browser;
  try {
    const before = unauthenticatedAtStandin();
    browser = (await f.login('frank')).browser;
    const r = await f.get(browser, '/payroll/frank');
    assert.equal(r.status, 403, r.body);
    assert.equal(JSON.parse(r.body).error, 'GH_KERBEROS_DELEGATION_DENIED');
    assert.equal(unauthenticatedAtStandin(), before, 'no request without credentials reached IIS');
  } finally {
    await f.ad.allowDelegation('HTTP/iis.corp.test');
  }
  const b = browser;
  await waitFor(
    async () => (await f.get(b, '/payroll/frank')).status === 200,
    60_000,
    'frank admitted again',
  );
  assert.equal(whoami(await f.get(b, '/payroll/frank')).user, 'frank@CORP.TEST');
});
