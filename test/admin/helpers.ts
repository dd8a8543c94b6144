import { request } from 'undici';
import { TestBrowser } from '../oidc/browser-client.js';
import { startSso, type FixtureOptions, type SsoFixture } from '../oidc/fixture.js';

/** Admin section of the test configs: admins are the `admins` group (alice). */
export function adminSection(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: '127.0.0.1:0',
    access: { rules: [{ name: 'console-admins', effect: 'allow', when: { group: 'admins' } }] },
    ...extra,
  };
}

/**
 * A browser whose cookies are per host, like a real one (RFC 6265 cookies ignore the port): the
 * session cookie set by the proxy listener reaches the admin listener on the same host.
 */
export class HostBrowser extends TestBrowser {
  override cookies(origin: string): Map<string, string> {
    return super.cookies(new URL(origin).hostname);
  }

  override cookieHeader(url: string): string | undefined {
    const m = this.jar.get(new URL(url).hostname);
    if (!m || m.size === 0) return undefined;
    return [...m].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The SSO fixture (dev IdP, upstream, Gatehouse) with the admin listener on. */
export async function startAdminFixture(
  opts: FixtureOptions & { admin?: Record<string, unknown> } = {},
): Promise<SsoFixture & { adminUrl: string }> {
  const f = await startSso({
    ...opts,
    edit: (c) => {
      c.admin = adminSection(opts.admin);
      opts.edit?.(c);
    },
  });
  const adminUrl = f.gw.gateway.admin?.listener.url;
  if (adminUrl === undefined) throw new Error('admin listener not started');
  return { ...f, adminUrl };
}

/** Signs `user` in through the admin console (login redirect, IdP form, back to the console). */
export async function signInToConsole(
  adminUrl: string,
  user: string,
  password: string,
): Promise<HostBrowser> {
  const b = new HostBrowser();
  const form = await b.navigate(`${adminUrl}/`);
  await b.submitLogin(form, user, password, (u) => u.startsWith(adminUrl));
  return b;
}

/** An admin API call with the browser's cookies (XHR-like: no navigation headers). */
export async function api(
  b: HostBrowser | undefined,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown> }> {
  const cookie = b?.cookieHeader(url);
  const res = await request(url, {
    method: (opts.method ?? 'GET') as 'GET',
    headers: { accept: 'application/json', ...(cookie === undefined ? {} : { cookie }), ...opts.headers },
    body: opts.body,
  });
  const text = await res.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.statusCode, json, headers: res.headers };
}

/** Mutation headers the console sends (CSRF defence). */
export const ADMIN_HEADERS = { 'x-gatehouse-admin': '1' };

/** Polls `check` until it returns a value (not undefined), for up to `ms`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
