// The FILE credential-cache reader (src/kerberos/ccache.ts) is hand-written, so it is checked
// two ways: differentially against MIT `klist` on real caches from a Samba KDC (gateway TGT,
// S4U tickets of several users, a renewed TGT, a TGT from a rotated keytab), and with fast-check:
// any bytes, and every truncation of a real cache, give the tickets or a CcacheError — nothing else.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startAdDomain, IIS_SPN, type AdDomain } from '../helpers/ad-domain.js';
import { mustRunKrb5Tool } from '../helpers/kerberos/krb5-tools.js';
import { fcParameters, fuzzSettings } from '../helpers/fuzz.js';
import { CcacheError, readCcache, type CachedTicket } from '../../src/kerberos/ccache.js';

let ad: AdDomain;
let dir: string;
const caches: string[] = [];

before(async () => {
  ad = await startAdDomain();
  dir = mkdtempSync(join(tmpdir(), 'gh-krb-ccache-'));
  const gw = join(dir, 'gw');
  await ad.kinitGateway(`FILE:${gw}`);
  caches.push(gw);
  for (const user of ['alice', 'bob', 'carol']) {
    const out = join(dir, `u-${user}`);
    const r = await ad.s4u(`FILE:${gw}`, user, IIS_SPN, `FILE:${out}`);
    assert.equal(r.code, 0, r.stderr);
    caches.push(out);
  }
  // The gateway's cache now also holds the proxied tickets ("for client alice").
  const renewed = join(dir, 'renewed');
  await ad.kinitGateway(`FILE:${renewed}`);
  await mustRunKrb5Tool('kinit', ['-R', '-c', `FILE:${renewed}`], { krb5Conf: ad.krb5Conf });
  caches.push(renewed);
  await ad.rotateGatewayKeytab();
  const rotated = join(dir, 'rotated');
  await mustRunKrb5Tool(
    'kinit',
    ['-f', '-k', '-t', ad.gatewayKeytab, '-c', `FILE:${rotated}`, ad.gatewayPrincipal],
    {
      krb5Conf: ad.krb5Conf,
    },
  );
  caches.push(rotated);
});

after(async () => {
  await ad?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const LINE =
  /^(\d\d)\/(\d\d)\/(\d\d(?:\d\d)?)\s+(\d\d):(\d\d):(\d\d)\s+(\d\d)\/(\d\d)\/(\d\d(?:\d\d)?)\s+(\d\d):(\d\d):(\d\d)\s+(\S+)/;

function epoch(m: string[], i: number): number {
  const y = Number(m[i + 2]);
  return (
    Date.UTC(
      y < 100 ? 2000 + y : y,
      Number(m[i]) - 1,
      Number(m[i + 1]),
      Number(m[i + 3]),
      Number(m[i + 4]),
      Number(m[i + 5]),
    ) / 1000
  );
}

/** `klist -c FILE` in the C locale and UTC: server, start and end of every credential. */
async function klist(file: string): Promise<Array<Pick<CachedTicket, 'server' | 'start' | 'end'>>> {
  const prevTz = process.env.TZ;
  process.env.TZ = 'UTC';
  process.env.LC_ALL = 'C';
  try {
    const r = await mustRunKrb5Tool('klist', ['-c', `FILE:${file}`], { krb5Conf: ad.krb5Conf });
    const out: Array<Pick<CachedTicket, 'server' | 'start' | 'end'>> = [];
    for (const line of r.stdout.split('\n')) {
      const m = LINE.exec(line);
      if (m) out.push({ start: epoch(m, 1), end: epoch(m, 7), server: m[13] as string });
    }
    return out;
  } finally {
    if (prevTz === undefined) delete process.env.TZ;
    else process.env.TZ = prevTz;
  }
}

test('every credential of real caches has the server, start and end klist shows', async () => {
  assert.equal(caches.length, 6);
  let compared = 0;
  for (const file of caches) {
    const ours = readCcache(readFileSync(file)).map(({ server, start, end }) => ({ server, start, end }));
    const theirs = await klist(file);
    assert.ok(theirs.length > 0, `klist shows tickets in ${file}`);
    assert.deepEqual(ours, theirs, file);
    compared += ours.length;
  }
  assert.ok(compared >= 8, `compared ${compared} credentials`);
  const gw = readCcache(readFileSync(caches[0] as string));
  assert.ok(
    gw.some((t) => t.server === 'krbtgt/CORP.TEST@CORP.TEST' && t.client === 'svc-gateway@CORP.TEST'),
    "gw.some((t) => t.server === 'krbtgt/CORP.TEST@CORP.TEST' && t.client === 'svc-gateway@CORP.TEST')",
  );
  assert.ok(
    gw.some((t) => t.server === 'HTTP/iis.corp.test@CORP.TEST' && t.client === 'alice@CORP.TEST'),
    'proxied ticket for alice',
  );
});

test('any bytes and every truncation of a real cache: tickets or a CcacheError, nothing else', () => {
  const real = caches.map((f) => readFileSync(f));
  const settings = fuzzSettings(300);
  const expectTyped = (b: Buffer) => {
    try {
      readCcache(b);
    } catch (e) {
      if (!(e instanceof CcacheError)) throw e;
    }
  };
  for (const buf of real) for (let n = 0; n < buf.length; n++) expectTyped(buf.subarray(0, n));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => expectTyped(Buffer.from(bytes))),
    fcParameters(settings),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: real.length - 1 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      (which, at, byte) => {
        const b = Buffer.from(real[which] as Buffer);
        b[at % b.length] = byte;
        expectTyped(b);
      },
    ),
    fcParameters(settings),
  );
});
