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

test('headers.underscore: an identity header name with "_"', async () => {
  const { run, report } = await doctorJson([
    '-c',
    config({ headers: { X_Remote_User: '{sub}' } }),
    '--only',
    'headers',
  ]);
  assert.equal(run.code, 0, 'a warning');
  const f = only(report, 'headers.underscore');
  assert.equal(f.severity, 'warning');
  assert.equal(f.evidence, 'X_Remote_User');
  assert.match(f.fix ?? '', /X-Remote-User/);
});

test('headers.case_duplicate: an identity header named like the X-Request-Id Gatehouse sets', async () => {
  const { run, report } = await doctorJson([
    '-c',
    config({ headers: { 'X-Request-ID': '{sub}' } }),
    '--only',
    'headers',
  ]);
  assert.equal(run.code, 1);
  const f = only(report, 'headers.case_duplicate');
  assert.equal(f.evidence, 'X-Request-ID vs X-Request-Id');
});
