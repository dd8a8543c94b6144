// The ticket manager against a real Samba AD KDC (issue 17 item 2): the gateway TGT from the
// keytab, S4U2Self + S4U2Proxy per user with MIT kvno, one kvno per user at a time, a bounded
// cache, refresh before expiry while the old ticket serves, and KDC failures classified.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startAdDomain, IIS_SPN, type AdDomain } from '../helpers/ad-domain.js';
import { TicketManager } from '../../src/kerberos/tickets.js';
import { findTool, ToolError } from '../../src/kerberos/tools.js';
import { userPrincipal, type UserPrincipal } from '../../src/kerberos/names.js';
import { readCcache } from '../../src/kerberos/ccache.js';

let ad: AdDomain;
let root: string;
let clock = 0;
const SPN = `${IIS_SPN}@CORP.TEST`;

function u(name: string): UserPrincipal {
  const p = userPrincipal(name, 'CORP.TEST');
  assert.ok(typeof p !== 'string', p as string);
  return p;
}

function manager(maxUsers = 10): TicketManager {
  const dir = mkdtempSync(join(root, 'm-'));
  const collection = join(dir, 'cc');
  const work = join(dir, 'work');
  mkdirSync(collection, { mode: 0o700 });
  mkdirSync(work, { mode: 0o700 });
  const kinit = findTool('kinit');
  const kvno = findTool('kvno');
  assert.ok(kinit && kvno, 'kinit and kvno (apt-get install krb5-user)');
  return new TicketManager(
    {
      servicePrincipal: ad.gatewayPrincipal,
      keytab: ad.gatewayKeytab,
      krb5Conf: ad.krb5Conf,
      realm: 'CORP.TEST',
      refreshBefore: 300_000,
      maxUsers,
      kinit,
      kvno,
      collection,
      work,
      toolTimeout: 30_000,
      now: () => (clock === 0 ? Date.now() / 1000 : clock),
    },
    pino({ level: 'silent' }),
  );
}

before(async () => {
  ad = await startAdDomain();
  root = mkdtempSync(join(tmpdir(), 'gh-krb-tickets-'));
});

after(async () => {
  await ad?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('concurrent requests of one user run one kvno; the user cache holds her delegated ticket; warm requests need no tool', async () => {
  clock = 0;
  const m = manager();
  const alice = u('alice');
  const waits = Array.from({ length: 5 }, () => m.ensure(alice, SPN));
  assert.ok(
    waits.every((w) => w instanceof Promise),
    'waits.every((w) => w instanceof Promise)',
  );
  await Promise.all(waits);
  assert.equal(m.runs.kvno, 1, 'single flight');
  assert.equal(m.runs.kinit, 1, 'one gateway TGT');
  const tickets = readCcache(readFileSync(m.cacheFile(alice)));
  const t = tickets.find((x) => x.server === SPN);
  assert.ok(t, 'a ticket for the SPN');
  assert.equal(t.client, 'alice@CORP.TEST');
  assert.ok(t.end > Date.now() / 1000 + 3600, 'valid for hours');
  assert.equal(m.ensure(alice, SPN), undefined, 'warm: ready now');
  await Promise.all([m.ensure(u('bob'), SPN), m.ensure(u('carol'), SPN)]);
  assert.equal(m.runs.kvno, 3, 'one per other user');
  assert.equal(m.runs.kinit, 1);
});

test('the cache is bounded: the least recently used user is dropped with her cache file', async () => {
  clock = 0;
  const m = manager(2);
  const [alice, bob, carol] = [u('alice'), u('bob'), u('carol')];
  await m.ensure(alice, SPN);
  await m.ensure(bob, SPN);
  assert.equal(m.ensure(alice, SPN), undefined); // alice is now the most recent
  await m.ensure(carol, SPN);
  assert.equal(m.size, 2);
  assert.equal(existsSync(m.cacheFile(bob)), false, "bob's cache removed");
  assert.equal(m.ensure(alice, SPN), undefined, 'alice kept');
  assert.ok(m.ensure(bob, SPN) instanceof Promise, 'bob needs a new ticket');
});

test('near its end a ticket is refreshed in the background while it still serves; past its end a new one comes first', async () => {
  clock = 0;
  const m = manager();
  const alice = u('alice');
  await m.ensure(alice, SPN);
  const end = readCcache(readFileSync(m.cacheFile(alice))).find((t) => t.server === SPN)!.end;
  clock = end - 60; // inside refresh_before (5 min), still valid
  assert.equal(m.ensure(alice, SPN), undefined, 'served with the current ticket');
  const deadline = Date.now() + 60_000;
  while (m.runs.kvno < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(m.runs.kvno, 2, 'refreshed in the background');
  clock = end + 3600 * 20; // every ticket long expired
  const w = m.ensure(alice, SPN);
  assert.ok(w instanceof Promise, 'an expired ticket is never used');
  await w;
  assert.equal(m.runs.kinit, 2, 'the expired TGT was replaced from the keytab');
  clock = 0;
});

test('failures are classified: unknown account (remembered 10 s), and the KDC down (a valid ticket still serves)', async () => {
  clock = 0;
  const m = manager();
  await m.ensure(u('alice'), SPN);
  await assert.rejects(m.ensure(u('nosuchuser'), SPN) as Promise<void>, (e: unknown) => {
    assert.ok(e instanceof ToolError, 'e instanceof ToolError');
    assert.equal(e.kind, 'unknown_user', e.message);
    return true;
  });
  const runs = m.runs.kvno;
  await assert.rejects(m.ensure(u('nosuchuser'), SPN) as Promise<void>, ToolError);
  assert.equal(m.runs.kvno, runs, 'a fresh refusal is answered without asking the KDC again');
  clock = Date.now() / 1000 + 11;
  await assert.rejects(m.ensure(u('nosuchuser'), SPN) as Promise<void>, ToolError);
  assert.equal(m.runs.kvno, runs + 1, 'after 10 s the KDC is asked again');
  clock = 0;
  await ad.stopKdc();
  try {
    assert.equal(m.ensure(u('alice'), SPN), undefined, 'alice keeps her ticket');
    await assert.rejects(m.ensure(u('carol'), SPN) as Promise<void>, (e: unknown) => {
      assert.ok(e instanceof ToolError, 'e instanceof ToolError');
      assert.equal(e.kind, 'kdc_unavailable', e.message);
      return true;
    });
  } finally {
    await ad.startKdc();
  }
  await m.ensure(u('carol'), SPN);
});
