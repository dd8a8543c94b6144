import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { runDev } from '../../src/cli/dev.js';
import { DEMO_USERS } from '../../src/dev/provider.js';
import { EstateBrowser } from '../sso/estate.js';

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

test('gatehouse dev --port 0 starts a working demo: one sign-in for intranet.localhost and payroll.localhost, admins only on /admin, staff only on payroll, clean stop', async () => {
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
    assert.match(url, /^http:\/\/intranet\.localhost:\d+$/, `no URL; stderr: ${err.text()}`);
    const port = new URL(url).port;
    const payroll = `http://payroll.localhost:${port}`;
    const printed = out.text();
    assert.ok(printed.includes(`Open ${url}/`), printed);
    assert.ok(printed.includes(`Open http://127.0.0.1:${port}/`), 'the loopback IP is printed too');
    for (const u of DEMO_USERS)
      assert.ok(printed.includes(u.id) && printed.includes(u.password), `credentials of ${u.id} printed`);
    assert.match(printed, /DEVELOPMENT ONLY/);

    const b = new EstateBrowser();
    const home = await b.signIn(`${url}/`, 'alice');
    assert.equal(home.status, 200, home.chain.join(' -> '));
    assert.equal(new URL(home.url).origin, url);
    assert.match(home.body, /Hello, <strong>alice<\/strong>!/);
    assert.match(home.body, /admins/);
    const admin = await b.navigate(`${url}/admin`);
    assert.equal(admin.status, 200);
    assert.match(admin.body, /Administration/);
    const pay = await b.navigate(`${payroll}/`);
    assert.equal(pay.status, 200, pay.chain.join(' -> '));
    assert.match(pay.body, /Contoso Payroll/);
    assert.match(pay.body, /Hello, <strong>alice<\/strong>!/);
    assert.equal(
      b.authRequests(new URL(b.requested.find((u) => u.includes('/auth?'))!).origin),
      1,
      'one sign-in',
    );

    // The admin console: printed URL on the login host, alice (admins) may use it, bob may not.
    const consoleUrl = /Admin console:\s+(http:\/\/login\.localhost:\d+)\//.exec(printed)?.[1];
    assert.ok(consoleUrl !== undefined, `admin console URL printed: ${printed}`);
    assert.notEqual(new URL(consoleUrl).port, port, 'a port of its own');
    // Browsers keep cookies per host, not per port; this scripted browser keys them by host:port.
    const shareLoginCookies = (br: EstateBrowser) => {
      for (const [k, v] of br.cookies(`http://login.localhost:${port}/`)) br.cookies(consoleUrl).set(k, v);
    };
    shareLoginCookies(b);
    const who = await b.navigate(`${consoleUrl}/api/whoami`);
    assert.equal(who.status, 200, who.chain.join(' -> '));
    assert.equal((JSON.parse(who.body) as { subject: string }).subject, 'alice');
    const seen = await b.navigate(`${consoleUrl}/api/decisions?route=admin&limit=5`);
    const items = (JSON.parse(seen.body) as { items: { principal: { name: string } }[] }).items;
    assert.ok(items.length > 0 && items[0]?.principal.name === 'alice@contoso.example', seen.body);

    const b2 = new EstateBrowser();
    const bobHome = await b2.signIn(`${url}/admin`, 'bob');
    assert.equal(bobHome.status, 403, 'bob is not in admins');
    assert.equal((await b2.navigate(`${url}/`)).status, 200);
    assert.equal((await b2.navigate(`${payroll}/`)).status, 200, 'bob is staff');
    shareLoginCookies(b2);
    assert.equal((await b2.navigate(`${consoleUrl}/api/whoami`)).status, 403, 'bob is no console admin');
    const carol = new EstateBrowser();
    assert.equal((await carol.signIn(`${payroll}/`, 'carol')).status, 403, 'carol is not staff');
    const ip = await new EstateBrowser().navigate(`http://127.0.0.1:${port}/`, (u) => u.includes('/auth?'));
    assert.ok(
      ip.url.includes('/auth?'),
      `the bare IP signs in through the login host: ${ip.chain.join(' -> ')}`,
    );
  } finally {
    ac.abort();
  }
  assert.equal(await exit, 0);
  await assert.rejects(fetch(`${url.replace('intranet.localhost', '127.0.0.1')}/`), 'gateway stopped');
});

test('gatehouse dev rejects a bad --port', async () => {
  const err = sink();
  const code = await runDev(['--port', 'abc'], { stdout: sink().stream, stderr: err.stream });
  assert.equal(code, 2);
  assert.match(err.text(), /invalid --port/);
});
