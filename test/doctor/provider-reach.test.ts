import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { closedPort, doctorJson, only, workdir } from './helpers.js';

// `gatehouse doctor` against real discovery/JWKS servers, one deliberately wrong provider
// setting per test, through the real CLI.

let idp: IdpServer;
const wd = workdir();

before(async () => {
  idp = await startIdp();
});
after(async () => {
  await idp.close();
  wd.cleanup();
});

function config(provider: Record<string, unknown>): string {
  return wd.write(`p-${Math.random().toString(36).slice(2)}.yaml`, { providers: { main: provider } });
}

test('provider.discovery: nothing listening at the issuer is an error naming the connection failure', async () => {
  const port = await closedPort();
  const { run, report } = await doctorJson([
    '-c',
    config({ issuer: `http://127.0.0.1:${port}`, audiences: ['a'] }),
  ]);
  assert.equal(run.code, 1);
  const f = only(report, 'provider.discovery');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /ECONNREFUSED/);
  assert.match(f.fix ?? '', /cannot be reached/);
});

test('provider.discovery: an IdP outage (503) is reported as the IdP being down', async () => {
  idp.outage = '503';
  try {
    const { report } = await doctorJson(['-c', config({ issuer: idp.issuer, audiences: [idp.audience] })]);
    const f = only(report, 'provider.discovery');
    assert.match(f.evidence ?? '', /HTTP 503/);
    assert.match(f.fix ?? '', /down or overloaded/);
  } finally {
    idp.outage = 'none';
  }
});

test('provider.discovery: an IdP that never answers is cut off by --timeout', async () => {
  idp.outage = 'hang';
  try {
    const started = Date.now();
    const { report } = await doctorJson([
      '-c',
      config({ issuer: idp.issuer, audiences: ['a'] }),
      '--timeout',
      '300ms',
    ]);
    const f = only(report, 'provider.discovery');
    assert.match(f.evidence ?? '', /no answer within 300 ms/);
    assert.ok(Date.now() - started < 20_000, 'Date.now() - started < 20_000');
  } finally {
    idp.outage = 'none';
  }
});
