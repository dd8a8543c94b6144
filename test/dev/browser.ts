/**
 * A tiny scripted "browser" for tests: fetch with manual redirects and a cookie jar, enough to
 * walk an OpenID Connect login through real HTML forms.
 */

export interface Step {
  readonly url: string;
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
}

export class Browser {
  /** origin → cookie name → value */
  readonly jar = new Map<string, Map<string, string>>();
  readonly history: Step[] = [];

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Step> {
    const u = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookies = this.jar.get(u.origin);
    if (cookies && cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    for (const c of res.headers.getSetCookie()) this.#store(u.origin, c);
    const loc = res.headers.get('location');
    const step: Step = {
      url,
      status: res.status,
      location: loc === null ? undefined : new URL(loc, url).href,
      body: await res.text(),
    };
    this.history.push(step);
    return step;
  }

  /** Follows redirects until a non-redirect answer, or until a Location starts with `stopAt`. */
  async follow(url: string, stopAt?: string, init: Parameters<Browser['request']>[1] = {}): Promise<Step> {
    let step = await this.request(url, init);
    for (let hops = 0; hops < 20; hops++) {
      if (step.location === undefined || step.status < 300 || step.status > 399) return step;
      if (stopAt !== undefined && step.location.startsWith(stopAt)) return step;
      step = await this.request(step.location);
    }
    throw new Error(`too many redirects: ${this.history.map((s) => s.url).join(' → ')}`);
  }

  #store(origin: string, setCookie: string): void {
    const [pair, ...attrs] = setCookie.split(';');
    const eq = (pair ?? '').indexOf('=');
    if (eq <= 0) return;
    const name = (pair as string).slice(0, eq).trim();
    const value = (pair as string).slice(eq + 1).trim();
    let jar = this.jar.get(origin);
    if (!jar) this.jar.set(origin, (jar = new Map()));
    const expired = attrs.some((a) => {
      const [k, v] = a.trim().split('=');
      if (k?.toLowerCase() === 'max-age') return Number(v) <= 0;
      if (k?.toLowerCase() === 'expires') return Date.parse(v ?? '') <= Date.now();
      return false;
    });
    if (expired) jar.delete(name);
    else jar.set(name, value);
  }
}

/** The `action` and hidden/visible `<input>` values of the first form in `html`. */
export function parseForm(html: string, baseUrl: string): { action: string; fields: Record<string, string> } {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form in page: ${html.slice(0, 300)}`);
  const action = /action="([^"]*)"/i.exec(form[0])?.[1] ?? '';
  const fields: Record<string, string> = {};
  for (const m of form[0].matchAll(/<input\b[^>]*>/gi)) {
    const name = /name="([^"]*)"/i.exec(m[0])?.[1];
    if (name !== undefined) fields[name] = decode(/value="([^"]*)"/i.exec(m[0])?.[1] ?? '');
  }
  return { action: new URL(decode(action), baseUrl).href, fields };
}

function decode(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"');
}
