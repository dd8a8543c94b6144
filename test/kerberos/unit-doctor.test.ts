// gatehouse doctor --kerberos-user (issue 17 item 5): the gateway's side of the troubleshooting
// table checked against a real Samba AD KDC — keytab, TGT, SPN, and a real S4U for one user.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAdDomain, IIS_SPN, type AdDomain } from '../helpers/ad-domain.js';
import { runDoctor } from '../../src/doctor/run.js';
import type { Finding } from '../../src/doctor/report.js';

let ad: AdDomain;
let dir: string;

before(async () => {
  ad = await startAdDomain();
  dir = mkdtempSync(join(tmpdir(), 'gh-krb-doctor-'));
});

after(async () => {
  await ad?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function doctor(opts: { user?: string; keytab?: string; spn?: string }): Promise<Map<string, Finding>> {
  const file = join(dir, `gatehouse-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `upstreams:
  payroll:
    url: http://127.0.0.1:9
    auth:
      kerberos:
        service_principal: ${ad.gatewayPrincipal}
        keytab: ${opts.keytab ?? ad.gatewayKeytab}
        spn: ${opts.spn ?? IIS_SPN}
        krb5_conf: ${ad.krb5Conf}
        user: "{sub}"
routes:
  - { match: { path: / }, upstream: payroll, auth: none }
`,
  );
  const report = await runDoctor({
    configFile: file,
    timeoutMs: 10_000,
    expiryDays: 30,
    only: new Set(['upstream']),
    kerberosUser: opts.user,
  });
  return new Map(report.findings.filter((f) => f.id.startsWith('upstream.kerberos')).map((f) => [f.id, f]));
}

test('a working setup: keytab, TGT, SPN and S4U for alice are ok', async () => {
  const f = await doctor({ user: 'alice' });
  for (const id of ['keytab', 'tgt', 'spn', 's4u'])
    assert.equal(f.get(`upstream.kerberos_${id}`)?.severity, 'ok', id);
  assert.match(f.get('upstream.kerberos_s4u')!.what, /alice@CORP\.TEST to HTTP\/iis\.corp\.test/);
});

test('without --kerberos-user no S4U is tried', async () => {
  const f = await doctor({});
  assert.equal(f.get('upstream.kerberos_tgt')?.severity, 'ok');
  assert.equal(f.has('upstream.kerberos_s4u'), false);
});

test('a sensitive account: S4U fails with KDC_ERR_BADOPTION and the fix names the delegation settings', async () => {
  await ad.setSensitive('bob', true);
  try {
    const s4u = (await doctor({ user: 'bob' })).get('upstream.kerberos_s4u');
    assert.equal(s4u?.severity, 'error');
    assert.match(s4u!.evidence ?? '', /KDC can't fulfill requested option/);
    assert.match(s4u!.fix ?? '', /Use any authentication protocol/);
  } finally {
    await ad.setSensitive('bob', false);
  }
});

test('an unknown SPN, an unknown user and an invalid user name are errors with their evidence', async () => {
  const f = await doctor({ user: 'nosuchuser', spn: 'HTTP/nowhere.corp.test' });
  assert.equal(f.get('upstream.kerberos_spn')?.severity, 'error');
  assert.match(f.get('upstream.kerberos_spn')!.evidence ?? '', /not found in Kerberos database/);
  assert.equal(f.get('upstream.kerberos_s4u')?.severity, 'error');
  const bad = (await doctor({ user: '-Uadmin' })).get('upstream.kerberos_s4u');
  assert.equal(bad?.severity, 'error');
  assert.match(bad!.what, /not a valid account name/);
});

test('a keytab of another account stops at the keytab check', async () => {
  const other = (await doctor({ keytab: ad.iisKeytab })).get('upstream.kerberos_keytab');
  assert.equal(other?.severity, 'error');
  assert.match(other!.what, /holds no key of svc-gateway@CORP\.TEST/);
});
