// The Kerberos test harness on its own, without Gatehouse: the throwaway AD domain
// (test/helpers/ad-domain.ts) does protocol transition and constrained delegation the way AD
// does, and the IIS stand-in (test/helpers/iis-standin.ts) accepts only Negotiate and shows who
// signed in. The end-to-end tests (e2e-*.test.ts) rely on both.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { startAdDomain, IIS_SPN, type AdDomain } from '../helpers/ad-domain.js';
import { startIisStandin, type IisStandin, type StandinWhoami } from '../helpers/iis-standin.js';
import { runKrb5Tool } from '../helpers/kerberos/krb5-tools.js';
import { getVia, negotiateToken } from '../helpers/kerberos/negotiate.js';
import { requireBinary } from '../helpers/binaries.js';
import { send } from '../helpers/http.js';

let ad: AdDomain;
let iis: IisStandin;
let gatewayCache: string;

before(async () => {
  ad = await startAdDomain();
  iis = await startIisStandin({ keytab: ad.iisKeytab, krb5Conf: ad.krb5Conf });
  gatewayCache = `FILE:${join(ad.dir, 'gateway.cc')}`;
  await ad.kinitGateway(gatewayCache);
});

after(async () => {
  await iis?.close();
  await ad?.close();
});

test('the gateway account gets a forwardable TGT from its keytab and a ticket to IIS on behalf of alice (S4U2Self + S4U2Proxy)', async () => {
  const list = await runKrb5Tool('klist', ['-f'], { krb5Conf: ad.krb5Conf, ccache: gatewayCache });
  assert.match(list.stdout, /Default principal: svc-gateway@CORP\.TEST/);
  assert.match(list.stdout, /krbtgt\/CORP\.TEST@CORP\.TEST\s*\n\s*renew until .*Flags: F/);
  const dir = join(ad.dir, 'users-1');
  mkdirSync(dir);
  const r = await ad.s4u(gatewayCache, 'alice', IIS_SPN, `DIR::${dir}/tkt_alice`);
  assert.equal(r.code, 0, r.stderr);
  const mine = await runKrb5Tool('klist', [], { krb5Conf: ad.krb5Conf, ccache: `DIR::${dir}/tkt_alice` });
  assert.match(mine.stdout, /Default principal: alice@CORP\.TEST/);
  assert.match(mine.stdout, /HTTP\/iis\.corp\.test@CORP\.TEST/);
});

/** A new gateway cache holding only the TGT (kvno keeps proxied tickets in the cache it runs with). */
async function freshGateway(): Promise<string> {
  const cc = `FILE:${join(ad.dir, `gateway-${++caches}.cc`)}`;
  await ad.kinitGateway(cc);
  return cc;
}
let caches = 0;

test('delegation is refused for a sensitive user and for a target outside msDS-AllowedToDelegateTo', async () => {
  assert.equal((await ad.s4u(await freshGateway(), 'bob')).code, 0);
  await ad.setSensitive('bob', true);
  const bob = await ad.s4u(await freshGateway(), 'bob');
  assert.notEqual(bob.code, 0);
  assert.match(bob.stderr, /constrained delegation failed|can't fulfill requested option/i);
  assert.equal((await ad.s4u(await freshGateway(), 'carol')).code, 0, 'other users are not affected');
  await ad.setSensitive('bob', false);
  assert.equal((await ad.s4u(await freshGateway(), 'bob')).code, 0);

  await ad.disallowDelegation(IIS_SPN);
  const carol = await ad.s4u(await freshGateway(), 'carol');
  assert.notEqual(carol.code, 0);
  assert.match(carol.stderr, /constrained delegation failed|can't fulfill requested option/i);
  await ad.allowDelegation(IIS_SPN);
  assert.equal((await ad.s4u(await freshGateway(), 'carol')).code, 0);
});

test('the stand-in refuses a request without credentials with 401 Negotiate', async () => {
  const r = await send(iis.url, '/payroll/');
  assert.equal(r.status, 401);
  assert.match(String(r.headers['www-authenticate']), /^Negotiate/);
  assert.doesNotMatch(r.body, /CORP\.TEST/);
  const bad = await send(iis.url, '/payroll/', { headers: { authorization: 'Negotiate AAAA' } });
  assert.equal(bad.status, 401);
  const basic = await send(iis.url, '/payroll/', { headers: { authorization: 'Basic YWxpY2U6eA==' } });
  assert.equal(basic.status, 401);
});

test('curl --negotiate with alice own TGT reaches the stand-in as alice@CORP.TEST with her groups in the PAC', async () => {
  const curl = requireBinary('curl', 'curl');
  const cc = `FILE:${join(ad.dir, 'alice.cc')}`;
  await ad.kinitUser('alice', cc);
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      curl,
      [
        '-sS',
        '--negotiate',
        '-u',
        ':',
        '--resolve',
        `iis.corp.test:${iis.port}:127.0.0.1`,
        `http://iis.corp.test:${iis.port}/app/`,
      ],
      { env: { ...process.env, KRB5_CONFIG: ad.krb5Conf, KRB5CCNAME: cc }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message} ${stderr}`)) : resolve(stdout)),
    ),
  );
  const who = JSON.parse(out) as StandinWhoami;
  assert.equal(who.user, 'alice@CORP.TEST');
  assert.equal(who.path, '/app/');
  const pac = await ad.pacIdentity(who.attrs);
  assert.equal(pac.account, 'alice');
  assert.equal(pac.domain, 'CORP');
  assert.deepEqual([...pac.groups].sort(), ['Domain Users', 'payroll-admins']);
});

test('a delegated ticket gives a Negotiate token (npm kerberos, DIR: collection) the stand-in accepts; the connection stays bound to that user', async () => {
  const dir = join(ad.dir, 'users-2');
  mkdirSync(dir);
  for (const user of ['alice', 'carol']) {
    const r = await ad.s4u(gatewayCache, user, IIS_SPN, `DIR::${dir}/tkt_${user}`);
    assert.equal(r.code, 0, r.stderr);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const token = await negotiateToken(`DIR:${dir}`, 'alice@CORP.TEST', ad.krb5Conf);
    const first = await getVia(agent, iis.url, '/a', { authorization: `Negotiate ${token}` });
    assert.equal(first.status, 200, first.body);
    const a = first.json<StandinWhoami>();
    assert.equal(a.user, 'alice@CORP.TEST');
    assert.equal(a.auth_header, 'Negotiate');
    // IIS-like: later requests on the same connection are alice's without any header.
    const second = await getVia(agent, iis.url, '/b');
    assert.equal(second.status, 200);
    const b = second.json<StandinWhoami>();
    assert.equal(b.remote_port, a.remote_port, 'same connection');
    assert.equal(b.user, 'alice@CORP.TEST');
    assert.equal(b.auth_header, '');
  } finally {
    agent.destroy();
  }
  // A new connection without a header is refused; carol's token gives carol.
  assert.equal((await send(iis.url, '/c')).status, 401);
  const token = await negotiateToken(`DIR:${dir}`, 'carol@CORP.TEST', ad.krb5Conf);
  const r = await send(iis.url, '/c', { headers: { authorization: `Negotiate ${token}` } });
  assert.equal(r.status, 200);
  assert.equal(r.json<StandinWhoami>().user, 'carol@CORP.TEST');
});

test('a KDC outage makes S4U fail with "Cannot contact any KDC"; after the restart it works again', async () => {
  await ad.addUser('dave', ['payroll-admins']);
  await ad.stopKdc();
  try {
    const r = await ad.s4u(gatewayCache, 'dave');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Cannot contact any KDC/);
  } finally {
    await ad.startKdc();
  }
  assert.equal((await ad.s4u(gatewayCache, 'dave')).code, 0);
});

test('rotating the gateway keytab gives a new key version; the old keytab no longer gets a TGT', async () => {
  const old = join(ad.dir, 'old-gateway.keytab');
  copyFileSync(ad.gatewayKeytab, old);
  const before = ad.gatewayKvno();
  const rotated = await ad.rotateGatewayKeytab();
  assert.equal(rotated.path, ad.gatewayKeytab);
  assert.equal(rotated.kvno, before + 1);
  const listed = await runKrb5Tool('klist', ['-k', ad.gatewayKeytab], { krb5Conf: ad.krb5Conf });
  assert.match(listed.stdout, new RegExp(`^\\s+${rotated.kvno} svc-gateway@CORP\\.TEST`, 'm'));
  assert.doesNotMatch(listed.stdout, new RegExp(`^\\s+${before} `, 'm'));
  const cc = `FILE:${join(ad.dir, 'rotated.cc')}`;
  const stale = await runKrb5Tool('kinit', ['-k', '-t', old, ad.gatewayPrincipal], {
    krb5Conf: ad.krb5Conf,
    ccache: cc,
  });
  assert.notEqual(stale.code, 0, 'the old key is refused');
  await ad.kinitGateway(cc);
  assert.equal((await ad.s4u(cc, 'alice')).code, 0);
});
