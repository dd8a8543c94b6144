import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { freePort } from '../helpers/ports.js';
import { send } from '../helpers/http.js';
import { clientFor, SECRET, ssoConfig } from '../oidc/fixture.js';
import type { AuditEvent } from '../../src/audit/event.js';

// An upstream can never set, overwrite or clear Gatehouse's own cookies (the session cookie,
// login-state cookies, anything with Gatehouse's reserved prefixes): such Set-Cookie lines are
// dropped and audited; the app's own cookies pass.

let idp: DevProvider;
let up: RecordingUpstream;
let gh: TestGateway;

const HOSTILE = [
  'legacy_sso=fixated; Path=/; HttpOnly',
  'legacy_sso=; Max-Age=0; Path=/',
  'gatehouse_session=fixated; Path=/',
  '__Host-gatehouse=fixated; Path=/; Secure',
  'gh-state-abc123=forged; Path=/',
  'GateHouse_Other=1',
  '=legacy_sso=nameless; Path=/',
  '  legacy_sso =spaced',
];
const FRIENDLY = ['app_session=abc; Path=/; HttpOnly', 'theme=dark', 'legacy_sso_prefs=1'];

before(async () => {
  const port = await freePort();
  idp = await startDevProvider({
    clients: [clientFor([port])],
    logger: { warn: () => undefined, info: () => undefined, error: () => undefined },
  });
  up = await startUpstream((_req, res) => {
    res.setHeader('set-cookie', [...HOSTILE, ...FRIENDLY]);
    res.setHeader('content-type', 'text/plain');
    res.end('cookies');
  });
  gh = await startGatehouse(ssoConfig(port, idp.issuer, up.url, { cookie_name: 'legacy_sso' }), {
    env: { TEST_SESSION_SECRET: SECRET },
  });
});

after(async () => {
  await gh?.close();
  await up?.close();
  await idp?.close();
});

test("Set-Cookie lines naming Gatehouse's cookies are dropped; the app's cookies pass", async () => {
  const r = await send(gh.url, '/public/page');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'cookies');
  assert.deepEqual(r.headers['set-cookie'], FRIENDLY);
  const ev = gh.audit.filter((e) => e.path === '/public/page').at(-1) as AuditEvent;
  assert.ok(ev.reasons.includes('response.cookie.dropped'), ev.reasons.join(','));
  assert.deepEqual(ev.dropped_cookies, [
    'legacy_sso',
    'legacy_sso',
    'gatehouse_session',
    '__Host-gatehouse',
    'gh-state-abc123',
    'GateHouse_Other',
    '=legacy_sso',
    'legacy_sso',
  ]);
  assert.equal(ev.decision, 'allow', 'the response itself is still delivered');
});
