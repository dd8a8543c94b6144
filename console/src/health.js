/**
 * Health: identity providers (JWKS age, last refresh, errors, stale), upstream targets, Redis,
 * audit sinks, certificates, the configuration's version and last reload, the instances, and
 * `gatehouse doctor` on demand (`api/health`, `api/instances`, `POST api/doctor`).
 * @module
 */
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { get, post } from './api.js';
import { age, dateTime } from './format.js';

/** @param {{ ok: boolean, yes?: string, no?: string }} p */
const Status = ({ ok, yes = 'ok', no = 'problem' }) =>
  html`<span class=${`badge ${ok ? 'good' : 'bad'}`}>${ok ? yes : no}</span>`;

/** @param {unknown} v */
function show(v) {
  if (v === undefined || v === null || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A card with a heading. @param {{ title: string, children: any, wide?: boolean }} p */
const Card = ({ title, children, wide }) =>
  html`<section class=${`card${wide ? ' wide' : ''}`} aria-label=${title}>
    <h3>${title}</h3>
    ${children}
  </section>`;

/** A generic object (Redis, an audit sink) as name/value pairs. @param {{ obj: Record<string, unknown> }} p */
const Pairs = ({ obj }) =>
  html`<dl class="kv">
    ${Object.entries(obj).map(
      ([k, v]) =>
        html`<div class="pair">
          <dt>${k}</dt>
          <dd>${show(v)}</dd>
        </div>`,
    )}
  </dl>`;

/** @param {{ report: any }} p */
function Doctor({ report }) {
  const findings = Array.isArray(report?.findings) ? report.findings : [];
  const s = report?.summary ?? {};
  const order = { error: 0, warning: 1, ok: 2 };
  const sorted = [...findings].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3));
  return html`<div class="doctor">
    <p role="status">
      ${`Checked ${dateTime(report?.checked_at)}: ${s.errors ?? 0} errors, ${s.warnings ?? 0} warnings, ${s.ok ?? 0} ok.`}
    </p>
    <ul class="findings">
      ${sorted.map(
        (/** @type {any} */ f) =>
          html`<li class=${`finding ${f.severity}`}>
            <span
              class=${`badge ${f.severity === 'error' ? 'bad' : f.severity === 'warning' ? 'warn' : 'good'}`}
              >${f.severity}</span
            >
            <code>${f.id}</code> <span class="muted">${f.subject}</span>
            <div>${f.what}</div>
            ${f.evidence ? html`<div class="small muted">Seen: ${f.evidence}</div>` : null}
            ${f.fix ? html`<div class="small">Fix: ${f.fix}</div>` : null}
          </li>`,
      )}
    </ul>
  </div>`;
}

export function Health() {
  const [h, setH] = useState(/** @type {any} */ (null));
  const [instances, setInstances] = useState(/** @type {any[]} */ ([]));
  const [error, setError] = useState('');
  const [doctor, setDoctor] = useState(/** @type {any} */ (null));
  const [doctoring, setDoctoring] = useState(false);
  const [doctorErr, setDoctorErr] = useState('');
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let stopped = false;
    get('api/health').then(
      (r) => {
        if (stopped) return;
        setH(r);
        setError('');
      },
      (e) => !stopped && setError(`Could not load health: ${e.message}`),
    );
    get('api/instances').then(
      (r) => !stopped && setInstances(Array.isArray(r?.items) ? r.items : []),
      () => undefined,
    );
    const t = setTimeout(() => setTick((n) => n + 1), 15_000);
    return () => {
      stopped = true;
      clearTimeout(t);
    };
  }, [tick]);

  const runDoctor = () => {
    setDoctoring(true);
    setDoctorErr('');
    post('api/doctor')
      .then(
        (r) => setDoctor(r),
        (e) => setDoctorErr(`Doctor could not run: ${e.message}`),
      )
      .finally(() => setDoctoring(false));
  };

  const cfg = h?.config;
  return html`<section class="view health" aria-labelledby="h-h">
    <div class="toolbar">
      <h2 id="h-h">Health</h2>
      <button type="button" onClick=${() => setTick((n) => n + 1)}>Refresh</button>
      <button
        type="button"
        class="primary"
        onClick=${runDoctor}
        disabled=${doctoring}
        aria-busy=${doctoring ? 'true' : 'false'}
      >
        ${doctoring ? 'Running doctor…' : 'Run doctor'}
      </button>
    </div>
    ${error ? html`<p class="banner error" role="alert">${error}</p>` : null}
    ${doctorErr ? html`<p class="banner error" role="alert">${doctorErr}</p>` : null}
    ${doctor ? html`<${Card} title="Doctor findings" wide><${Doctor} report=${doctor} /><//>` : null}
    ${
      !h
        ? html`<p class="muted" role="status">Loading…</p>`
        : html`<div class="cards">
            <${Card} title="Configuration">
              <dl class="kv">
                <div class="pair">
                  <dt>version</dt>
                  <dd class="mono">${show(cfg?.version)}</dd>
                </div>
                <div class="pair">
                  <dt>loaded</dt>
                  <dd>${dateTime(cfg?.loaded_at)}</dd>
                </div>
                <div class="pair">
                  <dt>last reload</dt>
                  <dd>
                    ${
                      cfg?.last_reload
                        ? html`<${Status} ok=${cfg.last_reload.ok} yes="ok" no="failed" />
                            ${cfg.last_reload.error ? html` <span class="small">${cfg.last_reload.error}</span>` : null}`
                        : 'none since start'
                    }
                  </dd>
                </div>
              </dl>
            <//>
            <${Card} title="Instances">
              ${
                instances.length
                  ? html`<ul class="plain">
                      ${instances.map(
                        (i) =>
                          html`<li>
                            <span class="chip">${i.instance}</span
                            >${` v${i.version} · started ${dateTime(i.started)}`}
                          </li>`,
                      )}
                    </ul>`
                  : html`<p class="muted">This instance only.</p>`
              }
            <//>
            <${Card} title="Identity providers" wide>
              <table class="small-table">
                <thead>
                  <tr>
                    <th scope="col">Provider</th>
                    <th scope="col">Keys (JWKS) age</th>
                    <th scope="col">Last refresh</th>
                    <th scope="col">Stale after</th>
                    <th scope="col">Last error</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  ${(h.providers ?? []).map(
                    (/** @type {any} */ p) =>
                      html`<tr>
                        <th scope="row">
                          ${p.name}${p.instance ? html` <span class="chip">${p.instance}</span>` : null}
                        </th>
                        <td>${age(p.jwks_age_s)}</td>
                        <td>${dateTime(p.last_refresh)}</td>
                        <td>${age(p.stale_after_s)}</td>
                        <td class="small">${p.last_error ?? '—'}</td>
                        <td>
                          <${Status}
                            ok=${!p.stale && !p.last_error}
                            yes="fresh"
                            no=${p.stale ? 'stale' : 'error'}
                          />
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            <//>
            <${Card} title="Upstream targets" wide>
              <table class="small-table">
                <thead>
                  <tr>
                    <th scope="col">Upstream</th>
                    <th scope="col">Target</th>
                    <th scope="col">Health</th>
                  </tr>
                </thead>
                <tbody>
                  ${
                    (h.upstreams ?? []).length === 0
                      ? html`<tr>
                          <td colspan="3" class="muted">No upstreams.</td>
                        </tr>`
                      : null
                  }
                  ${(h.upstreams ?? []).flatMap((/** @type {any} */ u) =>
                    (u.targets ?? []).map(
                      (/** @type {any} */ t) =>
                        html`<tr>
                          <th scope="row">${u.name}</th>
                          <td class="mono">${t.url}</td>
                          <td>
                            ${
                              t.healthy === null || t.healthy === undefined
                                ? html`<span class="badge neutral">no health check</span>`
                                : html`<${Status} ok=${t.healthy} yes="healthy" no="unhealthy" />`
                            }
                          </td>
                        </tr>`,
                    ),
                  )}
                </tbody>
              </table>
            <//>
            <${Card} title="Redis">
              ${h.redis ? html`<${Pairs} obj=${h.redis} />` : html`<p class="muted">Not configured: sessions and limits are held by each instance.</p>`}
            <//>
            <${Card} title="Audit sinks">
              ${
                Array.isArray(h.audit_sinks) && h.audit_sinks.length
                  ? h.audit_sinks.map((/** @type {any} */ s) =>
                      typeof s === 'object' ? html`<${Pairs} obj=${s} />` : html`<p>${show(s)}</p>`,
                    )
                  : html`<p class="muted">None configured.</p>`
              }
            <//>
            <${Card} title="Certificates" wide>
              ${
                Array.isArray(h.certificates) && h.certificates.length
                  ? html`<table class="small-table">
                      <thead>
                        <tr>
                          <th scope="col">Certificate</th>
                          <th scope="col">Expires</th>
                          <th scope="col">Days left</th>
                        </tr>
                      </thead>
                      <tbody>
                        ${h.certificates.map(
                          (/** @type {any} */ c) =>
                            html`<tr>
                              <th scope="row">${c.name}</th>
                              <td>${dateTime(c.not_after)}</td>
                              <td>
                                <span
                                  class=${`badge ${c.days_left < 7 ? 'bad' : c.days_left < 30 ? 'warn' : 'good'}`}
                                  >${c.days_left}</span
                                >
                              </td>
                            </tr>`,
                        )}
                      </tbody>
                    </table>`
                  : html`<p class="muted">No TLS certificates configured.</p>`
              }
            <//>
          </div>`
    }
  </section>`;
}
