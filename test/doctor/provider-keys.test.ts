import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { doctorJson, only, startOpenIdServer, workdir } from './helpers.js';

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

test('provider.jwks_key: an RSA key under 2048 bits is unusable', async () => {
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  const op = await startOpenIdServer({ extraJwks: [{ ...weak, kid: 'weak-1', alg: 'RS256', use: 'sig' }] });
  try {
    const { report } = await doctorJson(['-c', config({ issuer: op.origin, audiences: ['a'] })]);
    const f = only(report, 'provider.jwks_key');
    assert.equal(f.severity, 'error');
    assert.match(f.evidence ?? '', /weak-1: .*2048/);
    assert.equal(only(report, 'provider.jwks').severity, 'ok', 'the other key still verifies');
  } finally {
    await op.close();
  }
});

test('provider.jwks_key: an encryption key (use=enc) is flagged', async () => {
  const enc = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  const op = await startOpenIdServer({ extraJwks: [{ ...enc, kid: 'enc-1', use: 'enc', alg: 'RSA-OAEP' }] });
  try {
    const { report } = await doctorJson(['-c', config({ issuer: op.origin, audiences: ['a'] })]);
    const f = only(report, 'provider.jwks_key');
    assert.equal(f.severity, 'warning');
    assert.match(f.what, /enc-1 is an encryption key \(use=enc\)/);
  } finally {
    await op.close();
  }
});

test('provider.algorithms: the IdP signs with RS256, the provider allows only ES256', async () => {
  const { run, report } = await doctorJson([
    '-c',
    config({ issuer: idp.issuer, audiences: ['a'], algorithms: ['ES256'] }),
  ]);
  assert.equal(run.code, 1);
  const f = only(report, 'provider.algorithms');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /offered: RS256 .*allowed: ES256/);
  assert.match(f.fix ?? '', /algorithms to include RS256/);
});

test('provider.clock: an IdP clock 5 minutes ahead exceeds clock_skew 1m', async () => {
  const op = await startOpenIdServer({ dateOffsetMs: 5 * 60_000 });
  try {
    const { run, report } = await doctorJson([
      '-c',
      config({ issuer: op.origin, audiences: ['a'], clock_skew: '1m' }),
    ]);
    assert.equal(run.code, 1);
    const f = only(report, 'provider.clock');
    assert.equal(f.severity, 'error');
    assert.match(f.evidence ?? '', /this machine is 5 min( \d+ s)? behind the IdP/);
    assert.match(f.what, /not yet valid/);
  } finally {
    await op.close();
  }
});
