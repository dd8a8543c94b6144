import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Outbound,
  parseProxyUrl,
  readProxyEnv,
  redactProxyUrl,
  ProxySettingError,
} from '../../src/net/outbound.js';
import { outboundFields } from '../../src/net/schema.js';

describe('outbound proxy settings', () => {
  it('parses proxy URLs: http(s), optional credentials, bare host:port as http; nothing else', () => {
    assert.equal((parseProxyUrl('http://proxy.corp:3128') as URL).host, 'proxy.corp:3128');
    assert.equal((parseProxyUrl('proxy.corp:3128') as URL).protocol, 'http:');
    assert.equal((parseProxyUrl('https://u:p%40ss@proxy.corp') as URL).password, 'p%40ss');
    assert.match(parseProxyUrl('socks5://proxy:1080') as string, /http:\/\/ or https:\/\//);
    assert.match(parseProxyUrl('http://proxy:3128/path') as string, /no path/);
    assert.match(parseProxyUrl('http://proxy:3128?x=1') as string, /no path, query/);
    assert.match(parseProxyUrl('http://') as string, /expected a proxy URL/);
  });

  it('redacts credentials for logs', () => {
    assert.equal(redactProxyUrl('http://svc:s3cret@proxy.corp:3128'), 'http://***@proxy.corp:3128');
    assert.equal(redactProxyUrl('http://proxy.corp:3128'), 'http://proxy.corp:3128');
    assert.equal(redactProxyUrl('ftp://x:y@h'), '(invalid proxy URL)');
  });

  it('reads the environment once: lower case wins, blanks are unset', () => {
    assert.deepEqual(
      readProxyEnv({
        HTTPS_PROXY: 'http://upper:1',
        https_proxy: 'http://lower:1',
        HTTP_PROXY: ' ',
        NO_PROXY: 'a,b',
      }),
      { httpProxy: undefined, httpsProxy: 'http://lower:1', noProxy: 'a,b' },
    );
    assert.deepEqual(readProxyEnv({}), { httpProxy: undefined, httpsProxy: undefined, noProxy: '' });
  });

  it('describes the route without credentials, and refuses a malformed environment variable', async () => {
    const env = new Outbound({
      proxy: 'env',
      timeoutMs: 1000,
      env: { HTTP_PROXY: 'http://u:pw@p:8080', NO_PROXY: '.corp' },
    });
    assert.equal(
      env.description,
      'environment (https via http://***@p:8080, http via http://***@p:8080, NO_PROXY .corp)',
    );
    const direct = new Outbound({ proxy: 'env', timeoutMs: 1000, env: {} });
    assert.equal(direct.description, 'direct (no proxy in the environment)');
    const none = new Outbound({ proxy: 'none', timeoutMs: 1000, env: { HTTPS_PROXY: 'http://p:1' } });
    assert.equal(none.description, 'direct (proxy: none)');
    assert.throws(
      () => new Outbound({ proxy: 'env', timeoutMs: 1000, env: { HTTPS_PROXY: 'http://p:1/x' } }),
      (e: unknown) => e instanceof ProxySettingError && e.source === 'HTTPS_PROXY',
    );
    await Promise.all([env.close(), direct.close(), none.close()]);
  });

  it('an unusable outbound refuses every call (fail closed)', async () => {
    const o = Outbound.unusable('providers.p.ca');
    await assert.rejects(o.fetch('http://127.0.0.1:65000/'), (e: Error) =>
      /outbound settings unusable: providers\.p\.ca/.test(
        String((e.cause as Error | undefined)?.message ?? e.message),
      ),
    );
    await o.close();
  });

  it('schema: proxy is a URL or none', () => {
    assert.equal(outboundFields.proxy.safeParse('none').success, true);
    assert.equal(outboundFields.proxy.safeParse('http://proxy:3128').success, true);
    const bad = outboundFields.proxy.safeParse('socks5://proxy:1080');
    assert.equal(bad.success, false);
    assert.match(bad.error?.issues[0]?.message ?? '', /or "none"/);
  });
});
