// End to end (issue 17 item 4): the KDC goes away. Gatehouse fails closed with 503
// GH_KERBEROS_KDC_UNAVAILABLE for a user it holds no ticket for, never sends a request without
// credentials, and recovers by itself when the KDC is back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/ports.js';
import { startKerberosE2e, whoami, type KerberosE2e } from './e2e-fixture.js';

let f: KerberosE2e;

before(async () => {
  f = await startKerberosE2e();
});

after(async () => {
  await f?.close();
});

test('KDC outage: 503 GH_KERBEROS_KDC_UNAVAILABLE for a user without a ticket, nothing unauthenticated upstream; back to normal when the KDC returns', async () => {
  const alice = await f.login('alice');
  assert.equal(whoami(alice.page).user, 'alice@CORP.TEST');
  const carol = await f.login('carol', '/.gatehouse/login?rd=/.gatehouse/userinfo');
  assert.equal(carol.page.status, 200, 'carol is signed in (no upstream request yet)');
  const unauthenticated = () => (f.iis.errorLog().match(/NO AUTH DATA/g) ?? []).length;
  const before = unauthenticated();

  await f.ad.stopKdc();
  try {
    const r = await f.get(carol.browser, '/payroll/carol');
    assert.equal(r.status, 503, r.body);
    assert.equal(JSON.parse(r.body).error, 'GH_KERBEROS_KDC_UNAVAILABLE');
    assert.doesNotMatch(r.body, /CORP\.TEST|svc-gateway/, 'no directory detail to the client');
    const event = f.gw.audit.find((e) => e.type === 'request' && e.path === '/payroll/carol');
    assert.equal(event?.error, 'GH_KERBEROS_KDC_UNAVAILABLE');
    assert.equal(event?.upstream_status, undefined, 'not forwarded');
    // alice holds a valid ticket: served as alice from the cache, or refused the same way; never anyone else.
    const a = await f.get(alice.browser, '/payroll/alice');
    if (a.status === 200) assert.equal(whoami(a).user, 'alice@CORP.TEST');
    else {
      assert.equal(a.status, 503, a.body);
      assert.equal(JSON.parse(a.body).error, 'GH_KERBEROS_KDC_UNAVAILABLE');
    }
    assert.equal(unauthenticated(), before, 'no request without credentials reached IIS');
    assert.equal(f.gw.gateway.listeners.length > 0, true, 'Gatehouse is still up');
  } finally {
    await f.ad.startKdc();
  }
  let last = '';
  await waitFor(
    async () => {
      const r = await f.get(carol.browser, '/payroll/carol');
      last = `${r.status} ${r.body.slice(0, 200)}`;
      return r.status === 200;
    },
    60_000,
    `carol served once the KDC is back (last: ${last})`,
  );
  assert.equal(whoami(await f.get(carol.browser, '/payroll/carol')).user, 'carol@CORP.TEST');
  assert.equal(whoami(await f.get(alice.browser, '/payroll/alice')).user, 'alice@CORP.TEST');
});
