import { request } from 'undici';

/**
 * A tiny scripted "browser" for login tests: a cookie jar per origin, manual redirect following,
 * and login-form submission at the embedded provider. Sends `Accept: text/html` like a browser
 * navigation unless told otherwise.
 */

export interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** Every URL visited to get here (redirect chain), first to last. */
  readonly chain: readonly string[];
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Skip sending cookies from the jar. */
  readonly noCookies?: boolean;
}

const NAV_HEADERS = {
  accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
};

export class TestBrowser {
  /** origin → cookie name → value */
  readonly jar = new Map<string, Map<string, string>>();

  cookies(origin: string): Map<string, string> {
    let m = this.jar.get(origin);
    if (!m) {
      m = new Map();
      this.jar.set(origin, m);
    }
    return m;
  }

  cookieHeader(url: string): string | undefined {
    const m = this.jar.get(new URL(url).origin);
    if (!m || m.size === 0) return undefined;
    return [...m].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** One request without following redirects; stores Set-Cookie. */
  async send(url: string, opts: SendOptions = {}): Promise<Page> {
    const headers: Record<string, string> = { ...NAV_HEADERS, ...opts.headers };
    const cookie = opts.noCookies ? undefined : this.cookieHeader(url);
    if (cookie !== undefined && headers.cookie === undefined) headers.cookie = cookie;
    // undici.request, not fetch: fetch forces `Sec-Fetch-Mode: cors`, a browser navigation says `navigate`.
    const res = await request(url, { method: (opts.method ?? 'GET') as 'GET', headers, body: opts.body });
    const body = await res.body.text();
    const h = new Headers();
    const setCookies: string[] = [];
    for (const [k, v] of Object.entries(res.headers)) {
      for (const one of Array.isArray(v) ? v : [v]) {
        if (one === undefined) continue;
        if (k === 'set-cookie') setCookies.push(one);
        h.append(k, one);
      }
    }
    this.store(url, setCookies);
    return { url, status: res.statusCode, headers: h, body, chain: [url] };
  }

  store(url: string, setCookies: readonly string[]): void {
    const jar = this.cookies(new URL(url).origin);
    for (const sc of setCookies) {
      const [pair = '', ...attrs] = sc.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const maxAge = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('max-age='));
      if (maxAge !== undefined && Number(maxAge.slice(8)) <= 0) jar.delete(name);
      else jar.set(name, value);
    }
  }

  /**
   * Requests `url` and follows redirects (GET), like a browser navigation. With `stopBefore`,
   * returns (status 0, not requested) at the first redirect target it matches.
   */
  async navigate(
    url: string,
    opts: SendOptions = {},
    stopBefore?: (url: string) => boolean,
    maxRedirects = 20,
  ): Promise<Page> {
    const chain: string[] = [];
    let current = url;
    let o: SendOptions = opts;
    for (let i = 0; i <= maxRedirects; i++) {
      if (i > 0 && stopBefore?.(current))
        return { url: current, status: 0, headers: new Headers(), body: '', chain };
      chain.push(current);
      const page = await this.send(current, o);
      const loc = page.headers.get('location');
      if (page.status >= 300 && page.status < 400 && loc !== null) {
        current = new URL(loc, current).href;
        o = { headers: opts.headers };
        continue;
      }
      return { ...page, chain };
    }
    throw new Error(`too many redirects from ${url}: ${chain.join(' -> ')}`);
  }

  /** Fills `login`/`password` in the page's form and submits it, following redirects. */
  async submitLogin(
    page: Page,
    login: string,
    password: string,
    stopBefore?: (url: string) => boolean,
  ): Promise<Page> {
    const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
    if (action === undefined)
      throw new Error(`no login form at ${page.url} (status ${page.status}): ${page.body.slice(0, 300)}`);
    const target = new URL(action.replaceAll('&amp;', '&'), page.url).href;
    const body = new URLSearchParams({ login, password }).toString();
    const first = await this.send(target, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const loc = first.headers.get('location');
    if (first.status >= 300 && first.status < 400 && loc !== null) {
      const next = new URL(loc, target).href;
      if (stopBefore?.(next))
        return { url: next, status: 0, headers: new Headers(), body: '', chain: [target] };
      const rest = await this.navigate(next, {}, stopBefore);
      return { ...rest, chain: [target, ...rest.chain] };
    }
    return first;
  }

  /** Navigates to `url`, expects the IdP login form, signs in and returns the final page. */
  async login(url: string, user: string, password: string): Promise<Page> {
    const form = await this.navigate(url);
    return this.submitLogin(form, user, password);
  }
}
