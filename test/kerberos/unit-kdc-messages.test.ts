// The stderr classification of kinit/kvno failures (src/kerberos/kdc-messages.ts), each class
// checked against what MIT's tools really print for a Samba AD KDC's answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAdDomain, IIS_SPN, type AdDomain } from '../helpers/ad-domain.js';
import { runKrb5Tool } from '../helpers/kerberos/krb5-tools.js';
import { classifyFailure, KDC_MESSAGES } from '../../src/kerberos/kdc-messages.js';
import { failureError } from '../../src/kerberos/tools.js';

let ad: AdDomain;
let dir: string;
let gw: string;

before(async () => {
  ad = await startAdDomain();
  dir = mkdtempSync(join(tmpdir(), 'gh-krb-messages-'));
  gw = `FILE:${join(dir, 'gw')}`;
  await ad.kinitGateway(gw);
});

after(async () => {
  await ad?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function s4uError(user: string, spn = IIS_SPN): Promise<string> {
  const r = await ad.s4u(gw, user, spn, `FILE:${join(dir, `out-${user}`)}`);
  assert.notEqual(r.code, 0, `S4U for ${user} to ${spn} should fail`);
  return r.stderr;
}

test('an account the directory does not know: unknown_user → 403 GH_KERBEROS_UNKNOWN_USER', async () => {
  const err = await s4uError('nosuchuser');
  assert.equal(classifyFailure(err), 'unknown_user', err);
  assert.equal(failureError('unknown_user', err).status, 403);
});

test('a sensitive account, and a target outside msDS-AllowedToDelegateTo: delegation_denied → 403', async () => {
  await ad.setSensitive('bob', true);
  try {
    const err = await s4uError('bob');
    assert.equal(classifyFailure(err), 'delegation_denied', err);
  } finally {
    await ad.setSensitive('bob', false);
  }
  await ad.disallowDelegation(IIS_SPN);
  try {
    const err = await s4uError('carol');
    assert.equal(classifyFailure(err), 'delegation_denied', err);
    assert.equal(failureError('delegation_denied', err).code, 'GH_KERBEROS_DELEGATION_DENIED');
  } finally {
    await ad.allowDelegation(IIS_SPN);
  }
});

test('the KDC down, or no KDC known for the realm: kdc_unavailable → 503 with Retry-After', async () => {
  await ad.stopKdc();
  try {
    const s4u = await s4uError('alice');
    assert.equal(classifyFailure(s4u), 'kdc_unavailable', s4u);
    const kinit = await runKrb5Tool(
      'kinit',
      ['-k', '-t', ad.gatewayKeytab, '-c', `FILE:${join(dir, 'x')}`, ad.gatewayPrincipal],
      {
        krb5Conf: ad.krb5Conf,
      },
    );
    assert.notEqual(kinit.code, 0);
    assert.equal(classifyFailure(kinit.stderr), 'kdc_unavailable', kinit.stderr);
  } finally {
    await ad.startKdc();
  }
  const conf = join(dir, 'no-kdc.conf');
  writeFileSync(
    conf,
    `${readFileSync(ad.krb5Conf, 'utf8')}\n`.replace(/default_realm = \S+/, 'default_realm = NOWHERE.TEST'),
  );
  const r = await runKrb5Tool('kinit', ['-c', `FILE:${join(dir, 'y')}`, 'someone@NOWHERE.TEST'], {
    krb5Conf: conf,
    stdin: 'not-a-password\n',
  });
  assert.notEqual(r.code, 0);
  assert.equal(classifyFailure(r.stderr), 'kdc_unavailable', r.stderr);
  const e = failureError('kdc_unavailable', r.stderr);
  assert.equal(e.status, 503);
  assert.equal(e.headers?.['Retry-After'], '5');
});

test('anything else (an SPN nobody holds, a keytab of another account) is a generic failure → 503', async () => {
  const spn = await s4uError('alice', 'HTTP/nowhere.corp.test');
  assert.match(spn, /Server not found in Kerberos database/);
  assert.equal(classifyFailure(spn), 'failed', spn);
  const wrong = await runKrb5Tool(
    'kinit',
    ['-k', '-t', ad.iisKeytab, '-c', `FILE:${join(dir, 'z')}`, ad.gatewayPrincipal],
    {
      krb5Conf: ad.krb5Conf,
    },
  );
  assert.notEqual(wrong.code, 0);
  assert.equal(classifyFailure(wrong.stderr), 'failed', wrong.stderr);
  assert.equal(failureError('failed', wrong.stderr).code, 'GH_KERBEROS_TICKET_FAILED');
});

test('the table names the MIT error of every pattern', () => {
  for (const m of KDC_MESSAGES) assert.match(m.error, /^(KRB5_|KDC_ERR_)[A-Z_]+$/);
});
