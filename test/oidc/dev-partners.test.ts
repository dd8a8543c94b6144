import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { runDev } from '../../src/cli/dev.js';
import { PARTNER_USERS } from '../../src/dev/provider.js';
import { EstateBrowser } from '../sso/estate.js';

test('gatehouse dev --partners: a second demo IdP; the login host offers a chooser; partners sign in there, staff-only payroll refuses them', async () => {
  let printed = '';
  const out = new Writable({
    write(c, _e, cb) {
      printed += String(c);
      cb();
    },
  });
  const ac = new AbortController();
  let url = '';
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const exit = runDev(['--port', '0', '--partners'], { stdout: out, stderr: out } as never, {
    signal: ac.signal,
    onReady: (u) => {
      url = u;
      markReady();
    },
  });
  void exit.then(() => markReady());
  await ready;
  try {
    assert.match(url, /^http:\/\/intranet\.localhost:\d+$/, printed);
    for (const u of PARTNER_USERS) assert.ok(printed.includes(u.password), `${u.id} printed`);
    const b = new EstateBrowser();
    const chooser = await b.navigate(`${url}/`);
    assert.match(chooser.body, /<h1>Choose how to sign in<\/h1>/);
    const link = /<a class="button" href="([^"]+)">Fabrikam partners<\/a>/.exec(chooser.body)?.[1];
    assert.ok(link, chooser.body);
    const home = await b.signIn(new URL(link.replaceAll('&amp;', '&'), chooser.url).href, 'pat');
    assert.equal(home.status, 200, home.chain.join(' -> '));
    assert.equal(new URL(home.url).origin, url, 'back on the intranet host');
    assert.match(home.body, /Hello, <strong>pat<\/strong>!/);
    const pay = await b.navigate(url.replace('intranet.', 'payroll.') + '/');
    assert.equal(pay.status, 403, 'payroll is for staff; pat is a partner');
    await b.close();
  } finally {
    ac.abort();
  }
  assert.equal(await exit, 0);
});
