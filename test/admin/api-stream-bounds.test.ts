import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import type { SsoFixture } from '../oidc/fixture.js';
import { api, signInToConsole, startAdminFixture, waitFor, type HostBrowser } from './helpers.js';

describe(
  'admin live stream: a client that stops reading is dropped, the proxy keeps serving',
  { timeout: 180_000 },
  () => {
    let f: SsoFixture & { adminUrl: string };
    let alice: HostBrowser;

    before(async () => {
      f = await startAdminFixture({ admin: { stream: { max_clients: 4, client_buffer: 16 } } });
      alice = await signInToConsole(f.adminUrl, 'alice', 'alice-dev-password');
    });
    after(async () => {
      await f?.close();
    });

    it('disconnects the stalled client once it is client_buffer events behind', async () => {
      const port = Number(new URL(f.adminUrl).port);
      const stalled: Socket = connect(port, '127.0.0.1');
      await new Promise<void>((r) => stalled.once('connect', () => r()));
      stalled.write(
        `GET /api/decisions/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${alice.cookieHeader(f.adminUrl)}\r\nAccept: text/event-stream\r\n\r\n`,
      );
      // Read the response head, then never read again.
      await new Promise<void>((r) => stalled.once('data', () => r()));
      stalled.pause();
      let closed = false;
      stalled.once('close', () => (closed = true));
      const health = async () =>
        (await api(alice, `${f.adminUrl}/api/health`)).json.console as {
          stream_clients: number;
          stream_dropped: number;
        };
      assert.equal((await health()).stream_clients, 1);
      // Large decisions (long paths) fill the socket buffers quickly; every request is still answered.
      const long = `/public/${'x'.repeat(6000)}`;
      let sent = 0;
      await waitFor(async () => {
        const batch = await Promise.all(
          Array.from({ length: 25 }, () =>
            request(`${f.url}${long}`).then(async (r) => (await r.body.dump(), r.statusCode)),
          ),
        );
        assert.ok(
          batch.every((s) => s === 200),
          'the proxy answers while the stream client stalls',
        );
        sent += batch.length;
        const h = await health();
        return h.stream_dropped >= 1 && h.stream_clients === 0 ? h : undefined;
      }, 150_000);
      assert.ok(sent > 16, 'sent > 16');
      // Reading again drains what was buffered, then the connection turns out closed by Gatehouse.
      stalled.resume();
      await waitFor(() => (closed ? true : undefined));
      stalled.destroy();
    });
  },
);
