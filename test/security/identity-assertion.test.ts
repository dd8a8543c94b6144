import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { startIdp, type TestIdp } from '../identity/idp.js';
import { generateAssertionKey } from '../../src/identity/keys.js';

// The signed identity assertion through the full gateway, verified the way an upstream app
// verifies it: jose against the JWKS Gatehouse publishes.

const ISSUER = 'https://gatehouse.example.com';
const AUD = 'https://intranet.example.com';

let up: RecordingUpstream;
let idp: TestIdp;
let dir: string;

before(async () => {
  up = await startUpstream();
  idp = await startIdp();
  dir = mkdtempSync(join(tmpdir(), 'gh-assert-'));
});
after(async () => {
  await up.close();
  await idp.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(identity: Record<string, unknown>): Record<string, unknown> {
  return {
    providers: { corp: idp.provider },
    upstreams: { app: { url: up.url } },
    identity,
    routes: [
      {
        name: 'intranet',
        match: { path: '/intranet' },
        upstream: 'app',
        auth: 'bearer',
        allow: 'authenticated',
        identity: { assertion: { audience: AUD, groups: ['staff', 'hr'], ttl: '2m' } },
      },
      {
        name: 'api',
        match: { path: '/api' },
        upstream: 'app',
        auth: 'bearer',
        allow: 'authenticated',
        identity: { resource_metadata: { scopes_supported: ['api.read', 'api.write'] } },
      },
      { name: 'public', match: { path: '/' }, upstream: 'app', auth: 'none' },
    ],
  };
}

async function assertionFor(gh: TestGateway, sub: string, idpToken?: string): Promise<string> {
  const tok =
    idpToken ?? (await idp.token({ sub, email: `${sub}@example.com`, groups: ['staff', 'finance'] }));
  const r = await send(gh.url, '/intranet/page', {
    headers: { Authorization: `Bearer ${tok}`, 'X-Gatehouse-Assertion': 'forged' },
  });
  assert.equal(r.status, 200);
  const v = up.received.at(-1)!.headers['x-gatehouse-assertion'];
  assert.equal(typeof v, 'string');
  assert.notEqual(v, 'forged');
  return v as string;
}

test('managed key: generated on first start (0600), assertion verifies against the published JWKS', async () => {
  const gh = await startGatehouse(config({ assertion: { issuer: ISSUER, key_dir: 'keys' } }), {
    baseDir: dir,
  });
  try {
    const keyFiles = readdirSync(join(dir, 'keys')).filter((f) => f.endsWith('.pem'));
    assert.equal(keyFiles.length, 1);
    assert.equal(statSync(join(dir, 'keys', keyFiles[0]!)).mode & 0o777, 0o600);

    const aliceToken = await idp.token({
      sub: 'alice',
      email: 'alice@example.com',
      groups: ['staff', 'finance'],
    });
    const token = await assertionFor(gh, 'alice', aliceToken);
    const jwks = createRemoteJWKSet(new URL(`${gh.url}/.well-known/gatehouse/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: ISSUER,
      audience: AUD,
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.email, 'alice@example.com');
    assert.deepEqual(payload.groups, ['staff'], 'only the groups the route needs');
    assert.equal((payload.exp as number) - (payload.iat as number), 120);
    assert.equal(payload.idp, 'corp');

    const again = await assertionFor(gh, 'alice', aliceToken);
    assert.equal(again, token, 'same credential within its lifetime: cached token, no new signature');

    const bob = await assertionFor(gh, 'bob');
    assert.notEqual((await jwtVerify(bob, jwks)).payload.jti, payload.jti);

    const r = await send(gh.url, '/.well-known/gatehouse/jwks.json', { method: 'POST' });
    assert.equal(r.status, 405);
  } finally {
    await gh.close();
  }
  const gh2 = await startGatehouse(config({ assertion: { issuer: ISSUER, key_dir: 'keys' } }), {
    baseDir: dir,
  });
  try {
    assert.equal(
      readdirSync(join(dir, 'keys')).filter((f) => f.endsWith('.pem')).length,
      1,
      'restart reuses the key',
    );
  } finally {
    await gh2.close();
  }
});

test('key rotation: tokens signed before the rotation still verify against the new JWKS', async () => {
  const oldKey = join(dir, 'old.pem');
  const newKey = join(dir, 'new.pem');
  writeFileSync(oldKey, generateAssertionKey('ES256').export({ format: 'pem', type: 'pkcs8' }), {
    mode: 0o600,
  });
  writeFileSync(newKey, generateAssertionKey('ES256').export({ format: 'pem', type: 'pkcs8' }), {
    mode: 0o600,
  });

  const before = await startGatehouse(config({ assertion: { issuer: ISSUER, key_file: oldKey } }), {
    baseDir: dir,
  });
  let oldToken: string;
  try {
    oldToken = await assertionFor(before, 'carol');
  } finally {
    await before.close();
  }
  const after = await startGatehouse(
    config({ assertion: { issuer: ISSUER, key_file: newKey, previous_key_files: [oldKey] } }),
    { baseDir: dir },
  );
  try {
    const newToken = await assertionFor(after, 'carol');
    assert.notEqual(decodeProtectedHeader(newToken).kid, decodeProtectedHeader(oldToken).kid);
    const r = await send(after.url, '/.well-known/gatehouse/jwks.json');
    assert.equal(r.status, 200);
    const set = r.json<JSONWebKeySet>();
    assert.equal(set.keys.length, 2);
    for (const k of set.keys) assert.equal((k as Record<string, unknown>).d, undefined);
    const local = createLocalJWKSet(set);
    await jwtVerify(oldToken, local, { issuer: ISSUER, audience: AUD });
    await jwtVerify(newToken, local, { issuer: ISSUER, audience: AUD });
  } finally {
    await after.close();
  }
});

test('RFC 9728: protected resource metadata for bearer routes, at the root and path-suffixed', async () => {
  const gh = await startGatehouse(config({ assertion: { issuer: ISSUER, key_dir: 'keys' } }), {
    baseDir: dir,
  });
  try {
    const host = new URL(gh.url).host;
    const api = await send(gh.url, '/.well-known/oauth-protected-resource/api');
    assert.equal(api.status, 200);
    assert.match(String(api.headers['content-type']), /application\/json/);
    assert.deepEqual(api.json(), {
      resource: `http://${host}/api`,
      authorization_servers: [idp.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['api.read', 'api.write'],
    });
    const root = await send(gh.url, '/.well-known/oauth-protected-resource');
    assert.equal(root.status, 200);
    assert.equal(root.json().resource, `http://${host}`);
    assert.deepEqual(root.json().authorization_servers, [idp.issuer]);
    const none = await send(gh.url, '/.well-known/oauth-protected-resource/public');
    assert.equal(none.status, 404);
  } finally {
    await gh.close();
  }
});
