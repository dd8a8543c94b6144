import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { runDev } from '../../src/cli/dev.js';
import { DEMO_USERS } from '../../src/dev/provider.js';
import { TestBrowser } from '../oidc/browser-client.js';

function sink(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => out };
}

test('gatehouse dev --port 0 starts a working demo: sign in as a demo user, admins only on /admin, clean stop', async () => {
  const out = sink();
  const err = sink();
  const ac = new AbortController();
  let url = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const exit = runDev(
    ['--port', '0'],
    { stdout: out.stream, stderr: err.stream },
    {
      signal: ac.signal,
      onReady: (u) => {
        url = u;
        markReady();
      },
    },
  );
  void exit.then(() => markReady());
  await ready;
  try {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, `no URL; stderr: ${err.text()}`);
    const printed = out.text();
    assert.ok(printed.includes(`Open ${url}/`), printed);
    for (const u of DEMO_USERS)
      assert.ok(printed.includes(u.id) && printed.includes(u.password), `credentials of ${u.id} printed`);
    assert.match(printed, /DEVELOPMENT ONLY/);

    const alice = DEMO_USERS.find((u) => u.id === 'alice')!;
    const b = new TestBrowser();
    const home = await b.login(`${url}/`, alice.id, alice.password);
    assert.equal(home.status, 200);
    assert.equal(new URL(home.url).origin, url);
    assert.match(home.body, /Hello, <strong>alice<\/strong>!/);
    assert.match(home.body, /admins/);
    const admin = await b.navigate(`${url}/admin`);
    assert.equal(admin.status, 200);
    assert.match(admin.body, /Administration/);

    const bob = DEMO_USERS.find((u) => u.id === 'bob')!;
    const b2 = new TestBrowser();
    const bobHome = await b2.login(`${url}/admin`, bob.id, bob.password);
    assert.equal(bobHome.status, 403, 'bob is not in admins');
    assert.equal((await b2.navigate(`${url}/`)).status, 200);
  } finally {
    ac.abort();
  }
  assert.equal(await exit, 0);
  await assert.rejects(fetch(`${url}/`), 'gateway stopped');
});

test('gatehouse dev rejects a bad --port', async () => {
  const err = sink();
  const code = await runDev(['--port', 'abc'], { stdout: sink().stream, stderr: err.stream });
  assert.equal(code, 2);
  assert.match(err.text(), /invalid --port/);
});
