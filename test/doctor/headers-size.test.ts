import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { doctorJson, only, workdir } from './helpers.js';

// Identity header checks: names, and sizes of a token's principal rendered through each route's
// identity config against the IIS / http.sys defaults.

let idp: IdpServer;
const wd = workdir();

before(async () => {
  idp = await startIdp();
});
after(async () => {
  await idp.close();
  wd.cleanup();
});

function config(identity: Record<string, unknown>): string {
  return wd.write(`h-${Math.random().toString(36).slice(2)}.yaml`, {
    providers: { main: { issuer: idp.issuer, audiences: [idp.audience], max_token_bytes: '16kb' } },
    upstreams: { app: { url: 'http://127.0.0.1:9' } },
    routes: [
      {
        name: 'intranet',
        match: { path: '/' },
        upstream: 'app',
        auth: 'bearer',
        allow: 'authenticated',
        identity,
      },
    ],
  });
}

/** `n` group ids of 36 characters (Entra object ids). */
const groups = (n: number) =>
  Array.from({ length: n }, (_, i) => `a1b2c3d4-0000-4000-8000-${String(i).padStart(12, '0')}`);

test('headers.size: a principal that fits is ok, with the byte count', async () => {
  const token = await idp.token({ groups: groups(5) });
  const file = config({ headers: { 'X-Remote-User': '{sub}', 'X-Remote-Groups': '{groups}' } });
  const { run, report } = await doctorJson(['-c', file, '--only', 'headers', '--token', token]);
  assert.equal(run.code, 0, run.stdout);
  const f = only(report, 'headers.size');
  assert.equal(f.severity, 'ok');
  assert.match(f.evidence ?? '', /2 identity header\(s\), largest X-Remote-Groups \d+ bytes/);
});

test('headers.size: one header longer than http.sys MaxFieldLength (16384)', async () => {
  const token = await idp.token({ groups: groups(250) });
  const file = config({
    headers: { 'X-Remote-Groups': '{groups};{groups}' },
    max_header_bytes: '64kb',
    forward_token: 'remove',
  });
  const { run, report } = await doctorJson(['-c', file, '--only', 'headers', '--token', token]);
  assert.equal(run.code, 1);
  const f = only(report, 'headers.size');
  assert.match(f.what, /X-Remote-Groups is longer than http\.sys MaxFieldLength \(16384\)/);
  assert.match(f.fix ?? '', /MaxFieldLength/);
});

test('headers.size: identity headers plus the forwarded token over http.sys MaxRequestBytes (16384)', async () => {
  const token = await idp.token({ groups: groups(160) });
  const file = config({ headers: { 'X-Remote-Groups': '{groups}' }, max_header_bytes: '64kb' });
  const { report } = await doctorJson(['-c', file, '--only', 'headers', '--token', token]);
  const f = only(report, 'headers.size');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /exceed http\.sys MaxRequestBytes/);
  assert.match(f.evidence ?? '', /\+ forwarded Authorization \d+ bytes/);
});

test('headers.size: over the route max_header_bytes, requests are refused by Gatehouse itself', async () => {
  const token = await idp.token({ groups: groups(250) });
  const file = config({ headers: { 'X-Remote-Groups': '{groups}' } });
  const { report } = await doctorJson(['-c', file, '--only', 'headers', '--token', token]);
  const f = only(report, 'headers.size');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /exceed max_header_bytes: requests get \d+ GH_IDENTITY_TOO_LARGE/);
});
