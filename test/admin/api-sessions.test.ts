import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { SsoFixture } from '../oidc/fixture.js';
import { TestBrowser } from '../oidc/browser-client.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { send } from '../helpers/http.js';
import { ADMIN_HEADERS, api, signInToConsole, startAdminFixture, type HostBrowser } from './helpers.js';

const COOKIE = 'gatehouse_session';

interface SessionItem {
  id: string;
  user: string;
  name: string | null;
  created: string;
  last_seen: string;
  expires: string;
}

describe(
  'admin API: sessions across two instances sharing Redis (real redis-server)',
  { timeout: 180_000 },
  () => {
    let redis: RedisServer;
    let one: SsoFixture & { adminUrl: string };
    let two: SsoFixture & { adminUrl: string };
    let alice: HostBrowser;

    before(async () => {
      redis = await startRedis();
      const [p1, p2] = [await freePort(), await freePort()];
      const session = { store: 'redis', redis: { url: redis.url } };
      one = await startAdminFixture({ port: p1, extraPorts: [p2], session });
      two = await startAdminFixture({ port: p2, sharedIdp: one.idp, session });
      alice = await signInToConsole(one.adminUrl, 'alice', 'alice-dev-password');
    });
    after(async () => {
      await two?.close();
      await one?.close();
      await redis?.stop();
    });

    /** Signs `user` in on instance two's proxy listener; returns its session cookie header. */
    async function signInOnTwo(user: string): Promise<string> {
      const b = new TestBrowser();
      const page = await b.login(`${two.url}/`, user, `${user}-dev-password`);
      assert.equal(page.status, 200);
      return `${COOKIE}=${b.cookies(two.url).get(COOKIE)}`;
    }

    it("lists a user's sessions made on the other instance, never the session id", async () => {
      const cookie = await signInOnTwo('bob');
      const r = await api(alice, `${one.adminUrl}/api/sessions?user=bob`);
      assert.equal(r.status, 200);
      const items = r.json.items as SessionItem[];
      assert.equal(items.length, 1);
      const s = items[0] as SessionItem;
      assert.equal(s.user, 'bob');
      assert.equal(s.name, 'bob@contoso.example');
      assert.ok(Date.parse(s.expires) > Date.now(), 'Date.parse(s.expires) > Date.now()');
      assert.ok(
        !cookie.includes(s.id) && !JSON.stringify(r.json).includes(cookie.split('=')[1] as string),
        "!cookie.includes(s.id) && !JSON.stringify(r.json).includes(cookie.split('=')[1] as string)",
      );
      const byEmail = await api(alice, `${two.adminUrl}/api/sessions?user=bob%40contoso.example`);
      assert.deepEqual(
        byEmail.json.items,
        items,
        "an email seen in that instance's recent decisions names the subject",
      );
      const none = await api(alice, `${one.adminUrl}/api/sessions`);
      assert.equal(none.status, 400, 'user= is required');
    });

    it('revoking one session on instance one logs the user out on instance two', async () => {
      const cookie = await signInOnTwo('carol');
      assert.equal(
        (await send(two.url, '/app', { headers: { cookie, accept: 'application/json' } })).status,
        200,
      );
      const list = (await api(alice, `${one.adminUrl}/api/sessions?user=carol`)).json.items as SessionItem[];
      assert.equal(list.length, 1);
      const del = await api(alice, `${one.adminUrl}/api/sessions/${(list[0] as SessionItem).id}`, {
        method: 'DELETE',
        headers: ADMIN_HEADERS,
      });
      assert.equal(del.status, 200);
      assert.deepEqual(del.json, { revoked: 1 });
      const after = await send(two.url, '/app', { headers: { cookie, accept: 'application/json' } });
      assert.equal(after.status, 401, 'signed out on the other instance');
      const again = await api(alice, `${one.adminUrl}/api/sessions/${(list[0] as SessionItem).id}`, {
        method: 'DELETE',
        headers: ADMIN_HEADERS,
      });
      assert.equal(again.status, 404);
      assert.equal(again.json.error, 'GH_ADMIN_NOT_FOUND');
    });

    it("revoking all of a user's sessions ends them on every instance, and is audited", async () => {
      const c1 = await signInOnTwo('bob');
      const c2 = await signInOnTwo('bob');
      const r = await api(alice, `${one.adminUrl}/api/sessions?user=bob`, {
        method: 'DELETE',
        headers: ADMIN_HEADERS,
      });
      assert.equal(r.status, 200);
      assert.ok((r.json.revoked as number) >= 2, '(r.json.revoked as number) >= 2');
      for (const cookie of [c1, c2]) {
        assert.equal(
          (await send(two.url, '/app', { headers: { cookie, accept: 'application/json' } })).status,
          401,
        );
        assert.equal(
          (await send(one.url, '/app', { headers: { cookie, accept: 'application/json' } })).status,
          401,
        );
      }
      const onTwo = await api(alice, `${two.adminUrl}/api/sessions?user=bob`);
      assert.equal(onTwo.status, 200, "the admin's own session works on the other instance's console too");
      assert.deepEqual(onTwo.json.items, []);
      const ev = one.gw.audit.find((e) => e.type === 'admin.action' && e.action === 'session.revoke_all');
      assert.ok(ev, 'ev');
      assert.equal(ev.subject, 'alice');
      assert.equal(ev.target, 'user:bob');
    });

    it('lists both instances, each labelled', async () => {
      const r = await api(alice, `${one.adminUrl}/api/instances`);
      const items = r.json.items as { instance: string; self: boolean }[];
      assert.equal(items.length, 2, JSON.stringify(items));
      assert.equal(items.filter((i) => i.self).length, 1);
      assert.notEqual(items[0]?.instance, items[1]?.instance);
    });
  },
);
