import type { RequestContext } from '../pipeline/context.js';
import { renderPage } from '../pages/index.js';
import { sendHtml } from './http.js';
import type { LoginRuntime } from './logins.js';
import type { SessionRuntime } from './runtime.js';

/** The start URL of `login` returning to `returnTo` (a validated target). */
export function loginStartUrl(rt: SessionRuntime, login: LoginRuntime, returnTo: string): string {
  return `${rt.paths.start}?login=${encodeURIComponent(login.name)}&rd=${encodeURIComponent(returnTo)}`;
}

/**
 * The sign-in chooser (src/pages `login_chooser`, escaped by construction): one link per login
 * that applies, each starting that login and returning to `returnTo`. Answers 200, never cached.
 */
export function sendChooser(
  rt: SessionRuntime,
  ctx: RequestContext,
  logins: readonly LoginRuntime[],
  returnTo: string,
): void {
  const html = renderPage(
    'login_chooser',
    {
      title: 'Choose how to sign in',
      message: 'Sign in with one of these accounts to continue.',
      return_to: returnTo,
      request_id: ctx.id,
      providers: logins.map((l) => ({ name: l.name, label: l.label, url: loginStartUrl(rt, l, returnTo) })),
    },
    rt.pages,
  );
  ctx.reasons.push('login.chooser');
  sendHtml(ctx, 200, html);
}
