/**
 * HTML pages of the embedded development OpenID provider: the login form, logout confirmation
 * and error pages. Every page says that this is a development identity provider.
 */

/** Minimal HTML escaping for text and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:2rem}
main{max-width:26rem;margin:0 auto;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002;padding:1.5rem 2rem}
.dev{background:#fff3cd;border:1px solid #e0b400;border-radius:6px;padding:.6rem .8rem;font-size:.9rem}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;background:#2454c5;color:#fff;border:0;border-radius:4px;cursor:pointer}
.err{color:#b00020;font-weight:600}table{border-collapse:collapse;font-size:.85rem;margin-top:.5rem}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
code{background:#eee;padding:0 .2rem}`;

const BANNER = `<p class="dev"><strong>Development identity provider.</strong> This is Gatehouse's embedded OpenID provider for local development and tests only. Never use it in production.</p>`;

/** Security headers for every page the provider renders itself. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Gatehouse dev identity provider</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>${BANNER}${body}</main></body></html>`;
}

/** The login form (`login`, `password`, "Sign in"), optionally with an error and the demo accounts. */
export function loginPage(opts: {
  action: string;
  clientId: string;
  login?: string;
  error?: string;
  hints: readonly { id: string; password: string; groups: readonly string[] }[];
}): string {
  const err = opts.error ? `<p class="err" role="alert">${escapeHtml(opts.error)}</p>` : '';
  const rows = opts.hints
    .map(
      (u) =>
        `<tr><td><code>${escapeHtml(u.id)}</code></td><td><code>${escapeHtml(u.password)}</code></td><td>${escapeHtml(u.groups.join(', '))}</td></tr>`,
    )
    .join('');
  const hints = rows
    ? `<p>Demo accounts:</p><table><thead><tr><th>Username</th><th>Password</th><th>Groups</th></tr></thead><tbody>${rows}</tbody></table>`
    : '';
  return page(
    'Sign in',
    `<p>Signing in to <strong>${escapeHtml(opts.clientId)}</strong>.</p>${err}
<form method="post" action="${escapeHtml(opts.action)}" autocomplete="off">
<label for="login">Username</label><input id="login" name="login" type="text" value="${escapeHtml(opts.login ?? '')}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<label for="otp">One-time code (optional, demo MFA)</label><input id="otp" name="otp" type="text" inputmode="numeric">
<button type="submit">Sign in</button></form>${hints}`,
  );
}

/** A plain error page. */
export function errorPage(title: string, message: string): string {
  return page(title, `<p class="err">${escapeHtml(message)}</p>`);
}

/** oidc-provider `renderError`. */
export async function renderError(
  ctx: { type: string; body: unknown },
  out: Record<string, unknown>,
): Promise<void> {
  ctx.type = 'html';
  ctx.body = page(
    'Something went wrong',
    Object.entries(out)
      .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`)
      .join(''),
  );
}

/** oidc-provider `features.rpInitiatedLogout.logoutSource`: the confirmation form it generated. */
export async function logoutSource(ctx: { body: unknown }, form: string): Promise<void> {
  ctx.body = page(
    'Sign out',
    `${form}<p>Do you want to sign out of the development identity provider?</p>
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

/** oidc-provider `features.rpInitiatedLogout.postLogoutSuccessSource`. */
export async function postLogoutSuccessSource(ctx: { body: unknown }): Promise<void> {
  ctx.body = page('Signed out', '<p>You have been signed out of the development identity provider.</p>');
}
