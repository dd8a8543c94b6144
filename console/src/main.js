/**
 * The admin console's shell: header (who is signed in, on which instance), the section
 * navigation (links with `#/section`, so the browser's back button and bookmarks work), and the
 * section itself.
 * @module
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import './views.css';
import { html } from './html.js';
import { get, onAuthError } from './api.js';
import { Live } from './live.js';
import { Analytics } from './analytics.js';
import { Health } from './health.js';
import { Sessions } from './sessions.js';

const SECTIONS = [
  { id: 'live', title: 'Live', view: Live },
  { id: 'analytics', title: 'Analytics', view: Analytics },
  { id: 'health', title: 'Health', view: Health },
  { id: 'sessions', title: 'Sessions & keys', view: Sessions },
];

/** The section named by the location's hash (`#/health`), else the first. */
function sectionOfHash() {
  const id = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return SECTIONS.find((s) => s.id === id) ?? SECTIONS[0];
}

/** Signed out or refused: the API said so; the page says what to do. @param {{ err: import('./api.js').ApiError }} p */
function AuthBanner({ err }) {
  const signedOut = err.status === 401;
  return html`<div class="banner error" role="alert">
    ${
      signedOut
        ? html`Your admin session has ended. <a href="./">Sign in again</a>.`
        : html`Your account may not use the admin console (${err.code}). Ask an administrator to add you to
          the admin policy.`
    }
  </div>`;
}

function App() {
  const [section, setSection] = useState(sectionOfHash);
  const [me, setMe] = useState(/** @type {any} */ (null));
  const [authErr, setAuthErr] = useState(/** @type {import('./api.js').ApiError | null} */ (null));

  useEffect(() => {
    const onHash = () => setSection(sectionOfHash());
    addEventListener('hashchange', onHash);
    const off = onAuthError((e) => setAuthErr(e));
    get('api/whoami').then(setMe, () => undefined);
    return () => {
      removeEventListener('hashchange', onHash);
      off();
    };
  }, []);

  useEffect(() => {
    document.title = `${section.title} · Gatehouse console`;
  }, [section]);

  const View = section.view;
  return html`
    <a
      class="skip"
      href="#main"
      onClick=${(/** @type {Event} */ e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}
      >Skip to content</a
    >
    <header class="top">
      <div class="brand"><span class="logo" aria-hidden="true">▣</span> Gatehouse console</div>
      <nav aria-label="Console sections" class="tabs">
        ${SECTIONS.map(
          (s) =>
            html`<a href=${`#/${s.id}`} class="tab" aria-current=${s.id === section.id ? 'page' : undefined}
              >${s.title}</a
            >`,
        )}
      </nav>
      <div class="me" aria-label="Signed in">
        ${
          me
            ? html`<span title="Signed-in administrator">${me.user ?? me.subject}</span>
                <span class="chip" title="The instance serving this console">instance ${me.instance}</span>
                <span class="muted">v${me.version}</span>`
            : null
        }
      </div>
    </header>
    ${authErr ? html`<${AuthBanner} err=${authErr} />` : null}
    <main id="main" tabindex="-1">
      <h1 class="sr-only">${section.title}</h1>
      <${View} key=${section.id} />
    </main>
  `;
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
