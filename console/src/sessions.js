/**
 * Sessions & keys: a user's active sessions (on every instance when they live in Redis), revoke
 * one or all of them, rotate the identity-assertion signing key, and the API keys with their
 * last use (never their secrets).
 * @module
 */
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { del, get, post, seg } from './api.js';
import { dateTime } from './format.js';
import { Confirm } from './confirm.js';

/** @typedef {{ id: string, user: string, name?: string | null, login?: string | null, created?: string, last_seen?: string, expires?: string, instance?: string }} Session */

function SessionSearch() {
  const [user, setUser] = useState('');
  const [shown, setShown] = useState(/** @type {string | null} */ (null));
  const [items, setItems] = useState(/** @type {Session[]} */ ([]));
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [ask, setAsk] = useState(/** @type {{ one?: Session, all?: string } | null} */ (null));

  /** @param {string} u */
  const load = (u) => {
    setError('');
    get('api/sessions', { user: u }).then(
      (r) => {
        setItems(Array.isArray(r?.items) ? r.items : []);
        setShown(u);
      },
      (e) => setError(`Could not list sessions: ${e.message}`),
    );
  };

  const revoke = () => {
    const a = ask;
    setAsk(null);
    if (!a) return;
    const call = a.one
      ? del(`api/sessions/${seg(a.one.id)}`)
      : del(`api/sessions?user=${encodeURIComponent(a.all ?? '')}`);
    call.then(
      (r) => {
        const n = typeof r?.revoked === 'number' ? r.revoked : a.one ? 1 : undefined;
        setNotice(
          a.one
            ? `Revoked the session of ${a.one.user}.`
            : `Revoked ${n === undefined ? 'every' : n} session${n === 1 ? '' : 's'} of ${a.all}.`,
        );
        load(shown ?? '');
      },
      (e) => setError(`Revoke failed: ${e.message}`),
    );
  };

  return html`<section class="card wide" aria-labelledby="s-h">
    <h3 id="s-h">Sessions</h3>
    <form
      class="filters inline"
      role="search"
      aria-label="Find sessions"
      onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        setNotice('');
        if (user.trim()) load(user.trim());
      }}
    >
      <label class="field">
        <span>User</span>
        <input
          type="search"
          name="user"
          value=${user}
          placeholder="alice"
          autocomplete="off"
          onInput=${(/** @type {any} */ e) => setUser(e.currentTarget.value)}
        />
      </label>
      <button type="submit">Search</button>
      ${
        shown && items.length
          ? html`<button type="button" class="danger" onClick=${() => setAsk({ all: shown })}>
              Revoke all of ${shown}
            </button>`
          : null
      }
    </form>
    ${notice ? html`<p class="banner ok" role="status">${notice}</p>` : null}
    ${error ? html`<p class="banner error" role="alert">${error}</p>` : null}
    <table class="small-table sessions">
      <caption class="sr-only">
        Active sessions${shown ? ` of ${shown}` : ''}
      </caption>
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">Name</th>
          <th scope="col">Login</th>
          <th scope="col">Created</th>
          <th scope="col">Last seen</th>
          <th scope="col">Expires</th>
          <th scope="col"><span class="sr-only">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${
          items.length
            ? items.map(
                (s) =>
                  html`<tr data-session=${s.id}>
                    <th scope="row">
                      ${s.user} ${s.instance ? html`<span class="chip">instance ${s.instance}</span>` : null}
                    </th>
                    <td>${s.name ?? '—'}</td>
                    <td>${s.login ?? '—'}</td>
                    <td>${dateTime(s.created)}</td>
                    <td>${dateTime(s.last_seen)}</td>
                    <td>${dateTime(s.expires)}</td>
                    <td>
                      <button
                        type="button"
                        class="danger small"
                        onClick=${() => setAsk({ one: s })}
                        aria-label=${`Revoke this session of ${s.user}`}
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>`,
              )
            : html`<tr>
                <td colspan="7" class="muted">
                  ${shown ? `No active sessions of ${shown}.` : 'Search a user (their subject) to list their sessions.'}
                </td>
              </tr>`
        }
      </tbody>
    </table>
    ${
      ask
        ? html`<${Confirm}
            title=${ask.one ? 'Revoke this session?' : `Revoke all sessions of ${ask.all}?`}
            confirm=${ask.one ? 'Revoke session' : 'Revoke all'}
            onConfirm=${revoke}
            onCancel=${() => setAsk(null)}
          >
            ${
              ask.one
                ? html`<p>
                    ${ask.one.user} is signed out on the next request made with this session (created
                    ${dateTime(ask.one.created)}).
                  </p>`
                : html`<p>${ask.all} is signed out everywhere, on every instance, and must sign in again.</p>`
            }
          <//>`
        : null
    }
  </section>`;
}

function Keys() {
  const [keys, setKeys] = useState(/** @type {any[] | null} */ (null));
  const [error, setError] = useState('');
  const [ask, setAsk] = useState(false);
  const [kid, setKid] = useState('');
  useEffect(() => {
    get('api/api-keys').then(
      (r) => setKeys(Array.isArray(r?.items) ? r.items : []),
      (e) => setError(`Could not list API keys: ${e.message}`),
    );
  }, []);
  const rotate = () => {
    setAsk(false);
    post('api/keys/assertion/rotate').then(
      (r) => setKid(String(r?.kid ?? '')),
      (e) => setError(`Rotation failed: ${e.message}`),
    );
  };
  return html`<section class="card" aria-labelledby="k-h">
      <h3 id="k-h">Identity assertion key</h3>
      <p>
        Upstreams verify the identity assertion with this key. Rotating publishes a new key first; the old one
        stays valid until its assertions expire.
      </p>
      <button type="button" class="danger" onClick=${() => setAsk(true)}>Rotate assertion key</button>
      ${kid ? html`<p class="banner ok" role="status">New signing key: <code>${kid}</code></p>` : null}
      ${
        ask
          ? html`<${Confirm}
              title="Rotate the assertion signing key?"
              confirm="Rotate"
              onConfirm=${rotate}
              onCancel=${() => setAsk(false)}
            >
              <p>
                New assertions are signed with a new key. Upstreams that cache keys fetch the new one from the
                JWKS.
              </p>
            <//>`
          : null
      }
    </section>
    <section class="card" aria-labelledby="ak-h">
      <h3 id="ak-h">API keys</h3>
      ${error ? html`<p class="banner error" role="alert">${error}</p>` : null}
      <table class="small-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Last used</th>
          </tr>
        </thead>
        <tbody>
          ${
            keys === null
              ? html`<tr>
                  <td colspan="3" class="muted">Loading…</td>
                </tr>`
              : keys.length
                ? keys.map(
                    (k) =>
                      html`<tr>
                        <th scope="row">${k.name}</th>
                        <td class="mono">${k.id}</td>
                        <td>${k.last_used ? dateTime(k.last_used) : 'never'}</td>
                      </tr>`,
                  )
                : html`<tr>
                    <td colspan="3" class="muted">No API keys configured.</td>
                  </tr>`
          }
        </tbody>
      </table>
    </section>`;
}

export function Sessions() {
  return html`<section class="view sessions" aria-labelledby="sk-h">
    <div class="toolbar"><h2 id="sk-h">Sessions & keys</h2></div>
    <div class="cards">
      <${SessionSearch} />
      <${Keys} />
    </div>
  </section>`;
}
