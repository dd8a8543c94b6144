// End to end (issue 17 item 4): tickets expire and the gateway keytab is rotated. Every ticket of
// this domain lasts LIFETIME seconds (krb5.conf ticket_lifetime, clockskew 5 s), so an expired
// ticket is refused by the stand-in; Gatehouse must get new ones by itself, the gateway's own TGT
// from the keytab file as it is after the rotation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/ports.js';
import { runKrb5Tool } from '../helpers/kerberos/krb5-tools.js';
import { startKerberosE2e, whoami, type KerberosE2e } from './e2e-fixture.js';
import type { TestBrowser } from '../oidc/browser-client.js';

/** Seconds; Samba's KDC refuses S4U with a TGT that has ≤ 120 s left, so comfortably above that. */
const LIFETIME = 200;

let f: KerberosE2e;
let alice: TestBrowser;
let firstTicketAt = 0;

before(async () => {
  f = await startKerberosE2e({ domain: { ticketLifetimeSeconds: LIFETIME } });
});

after(async () => {
  await f?.close();
});

test('keytab rotation: the keytab file is replaced with a new key version; users keep being served, new ones too', async () => {
  firstTicketAt = Date.now();
  const first = await f.login('alice');
  alice = first.browser;
  assert.equal(whoami(first.page).user, 'alice@CORP.TEST');

  const old = join(f.ad.dir, 'before-rotation.keytab');
  copyFileSync(f.ad.gatewayKeytab, old);
  const previous = f.ad.gatewayKvno();
  const { kvno } = await f.ad.rotateGatewayKeytab();
  assert.equal(kvno, previous + 1);
  const stale = await runKrb5Tool('kinit', ['-k', '-t', old, f.ad.gatewayPrincipal], {
    krb5Conf: f.ad.krb5Conf,
    ccache: `FILE:${join(f.ad.dir, 'stale.cc')}`,
  });
  assert.notEqual(stale.code, 0, 'the old key is no longer accepted by the KDC');

  assert.equal(whoami(await f.get(alice, '/payroll/after-rotation')).user, 'alice@CORP.TEST');
  const bob = await f.login('bob');
  assert.equal(whoami(bob.page).user, 'bob@CORP.TEST');
});

test(
  'expired tickets: after every ticket obtained so far has expired, users are served with new ones (fresh Negotiate on a new connection), the gateway TGT comes from the rotated keytab',
  { timeout: (LIFETIME + 180) * 1000 },
  async () => {
    const expiredAt = firstTicketAt + (LIFETIME + 10) * 1000;
    await waitFor(() => Date.now() > expiredAt, (LIFETIME + 60) * 1000, 'the first tickets to expire');
    // The stand-in closes idle connections after 30 s, so this request needs a new connection and a token
    // from an unexpired ticket (the stand-in refuses an expired one).
    const a = whoami(await f.get(alice, '/payroll/expired'));
    assert.equal(a.user, 'alice@CORP.TEST');
    assert.equal(a.auth_header, 'Negotiate', 'authenticated afresh on a new upstream connection');
    // carol never had a ticket: S4U needs a TGT, and every TGT from before the rotation has expired.
    const carol = await f.login('carol');
    assert.equal(whoami(carol.page).user, 'carol@CORP.TEST');
    const refused = f.gw.audit.filter(
      (e) => e.type === 'request' && e.status >= 400 && e.path?.startsWith('/payroll'),
    );
    assert.deepEqual(
      refused.map((e) => `${e.path} ${e.status} ${e.error}`),
      [],
      'no request was refused along the way',
    );
  },
);
