/**
 * "Contoso Intranet" (and "Contoso Payroll", the same app under another name and host): the
 * demo legacy apps of `gatehouse dev`. A real HTTP upstream that has no
 * login of its own and simply trusts the identity Gatehouse hands it, the way an old intranet
 * app behind IIS would: it greets the user from `X-Forwarded-User` / `-Email` / `-Groups` or
 * the Easy Auth `X-MS-CLIENT-PRINCIPAL` header and shows every header it received. With
 * `assertion`, it also verifies Gatehouse's signed `X-Gatehouse-Assertion` against the JWKS and
 * shows the result (verified ✓ or the failure) with `iss`, `aud`, `exp` and the claims.
 *
 * Pages: `/` (everyone signed in), `/admin` (Gatehouse restricts it to admins; the app itself
 * checks nothing), `/api/whoami` (JSON).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertionChecker, type AssertionCheck, type DemoAssertionOptions } from './demo-assertion.js';
import { escapeHtml } from './provider-pages.js';

/** The identity the app received from the gateway. */
export interface ReceivedIdentity {
  user: string | undefined;
  email: string | undefined;
  groups: string[];
  /** Decoded `X-MS-CLIENT-PRINCIPAL`, when present and valid. */
  principal:
    | { auth_typ?: string; name_typ?: string; role_typ?: string; claims?: { typ: string; val: string }[] }
    | undefined;
}

/** How one instance of the demo app presents itself. */
export interface DemoAppOptions {
  port?: number;
  host?: string;
  /** Shown in the title and header (default "Contoso Intranet"). */
  name?: string;
  /** Header colour (CSS colour, default a blue). */
  color?: string;
  /** Links to the other demo apps (absolute URLs on their own hosts), shown in the header. */
  links?: readonly { label: string; url: string }[];
  /** Verify the signed assertion against Gatehouse's JWKS (`gatehouse dev` sets it). */
  assertion?: DemoAssertionOptions;
}

interface Look {
  readonly name: string;
  readonly color: string;
  readonly links: readonly { label: string; url: string }[];
  readonly check: (req: IncomingMessage) => Promise<AssertionCheck | undefined>;
}

export interface DemoApp {
  url: string;
  port: number;
  close(): Promise<void>;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Reads the identity headers a gateway injected (no verification: this app trusts its gateway). */
export function receivedIdentity(req: IncomingMessage): ReceivedIdentity {
  let principal: ReceivedIdentity['principal'];
  const raw = header(req, 'x-ms-client-principal');
  if (raw !== undefined) {
    try {
      const v: unknown = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
      if (v !== null && typeof v === 'object') principal = v as ReceivedIdentity['principal'];
    } catch {
      principal = undefined;
    }
  }
  const claims = principal?.claims ?? [];
  const claim = (typ: string | undefined) =>
    typ === undefined ? undefined : claims.find((c) => c.typ === typ)?.val;
  const user =
    header(req, 'x-forwarded-user') ??
    header(req, 'x-ms-client-principal-name') ??
    claim(principal?.name_typ);
  const email =
    header(req, 'x-forwarded-email') ??
    claim('email') ??
    claim('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress');
  const groupsHeader = header(req, 'x-forwarded-groups');
  const groups =
    groupsHeader !== undefined
      ? groupsHeader
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean)
      : claims.filter((c) => c.typ === 'groups' || c.typ === principal?.role_typ).map((c) => c.val);
  return { user, email, groups, principal };
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;background:#f6f7fb;color:#1d2330}
header{background:#0b5cad;color:#fff;padding:1rem 2rem}header a{color:#fff;margin-right:1rem}
main{padding:1rem 2rem;max-width:60rem}table{border-collapse:collapse;width:100%;font-size:.85rem}
td,th{border:1px solid #ccd;padding:.3rem .5rem;text-align:left;vertical-align:top;word-break:break-all}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:1rem 1.5rem;margin:1rem 0}
.admin{border-left:6px solid #c0392b}.ok{color:#1e7b4f;font-weight:bold}.bad{color:#c0392b;font-weight:bold}`;

function assertionCard(a: AssertionCheck | undefined): string {
  if (a === undefined) return '';
  const c = a.claims;
  const status = a.verified
    ? `<p class="ok">verified ✓ (${escapeHtml(a.alg ?? '')}, kid ${escapeHtml(a.kid ?? '')})</p>`
    : `<p class="bad">NOT verified ✗: ${escapeHtml(a.error ?? '')}</p>`;
  const exp = typeof c?.exp === 'number' ? new Date(c.exp * 1000).toISOString() : '–';
  const facts = c
    ? `<ul><li>iss: ${escapeHtml(String(c.iss))}</li><li>aud: ${escapeHtml(String(c.aud))}</li><li>exp: ${escapeHtml(exp)}</li><li>sub: ${escapeHtml(String(c.sub))}</li></ul><pre>${escapeHtml(JSON.stringify(c, null, 2))}</pre>`
    : '';
  return `<div class="card"><h2>Signed assertion (${escapeHtml(a.header)})</h2>${status}${facts}</div>`;
}

function render(
  req: IncomingMessage,
  path: string,
  look: Look,
  assertion: AssertionCheck | undefined,
): string {
  const id = receivedIdentity(req);
  const who = id.user ?? id.email;
  const greeting =
    who === undefined
      ? '<p>Hello, anonymous visitor. No identity was received from the gateway.</p>'
      : `<p>Hello, <strong>${escapeHtml(who)}</strong>!</p>`;
  const facts = `<ul><li>User: ${escapeHtml(id.user ?? '–')}</li><li>Email: ${escapeHtml(id.email ?? '–')}</li><li>Groups: ${escapeHtml(id.groups.join(', ') || '–')}</li></ul>`;
  const admin =
    path === '/admin'
      ? `<div class="card admin"><h2>Administration</h2><p>Payroll exports, user management and other admin-only tools. Gatehouse lets only members of the admins group reach this page.</p></div>`
      : '';
  const principal =
    id.principal === undefined
      ? ''
      : `<div class="card"><h2>X-MS-CLIENT-PRINCIPAL (decoded)</h2><pre>${escapeHtml(JSON.stringify(id.principal, null, 2))}</pre></div>`;
  const rows = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    rows.push(
      `<tr><td>${escapeHtml(req.rawHeaders[i])}</td><td>${escapeHtml(req.rawHeaders[i + 1])}</td></tr>`,
    );
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(look.name)}</title><style>${STYLE}</style></head><body>
<header style="background:${escapeHtml(look.color)}"><h1>${escapeHtml(look.name)}</h1><nav><a href="/">Home</a><a href="/admin">Admin</a><a href="/api/whoami">whoami (JSON)</a>${look.links.map((l) => `<a href="${escapeHtml(l.url)}">${escapeHtml(l.label)}</a>`).join('')}<a href="/.gatehouse/logout">Sign out</a></nav></header>
<main><div class="card">${greeting}${facts}</div>${admin}${assertionCard(assertion)}${principal}
<div class="card"><h2>Request headers received by the app</h2><table><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>
</main></body></html>`;
}

async function handle(req: IncomingMessage, res: ServerResponse, look: Look): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const security = {
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', ...security }).end();
    return;
  }
  if (path === '/api/whoami') {
    const id = receivedIdentity(req);
    const assertion = await look.check(req);
    const body = JSON.stringify({
      user: id.user ?? null,
      email: id.email ?? null,
      groups: id.groups,
      principal: id.principal ?? null,
      assertion: assertion ?? null,
      headers: req.headers,
    });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...security,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path !== '/' && path !== '/admin') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...security }).end('Not found\n');
    return;
  }
  const html = render(req, path, look, await look.check(req));
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    ...security,
  });
  res.end(req.method === 'HEAD' ? undefined : html);
}

/** Starts the demo app (default 127.0.0.1 on an ephemeral port). */
export async function startDemoApp(opts: DemoAppOptions = {}): Promise<DemoApp> {
  const host = opts.host ?? '127.0.0.1';
  const verify = opts.assertion && assertionChecker(opts.assertion);
  const look: Look = {
    name: opts.name ?? 'Contoso Intranet',
    color: opts.color ?? '#0b5cad',
    links: opts.links ?? [],
    check: async (req) => {
      if (verify) return verify(req);
      return req.headers['x-gatehouse-assertion'] === undefined
        ? undefined
        : {
            header: 'X-Gatehouse-Assertion',
            verified: false,
            error: 'not checked: this app has no JWKS URL',
          };
    },
  };
  const server = createServer((req, res) => {
    handle(req, res, look).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
