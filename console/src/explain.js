/**
 * The explanation of one request (`api/explain/:id`, the JSON of
 * `gatehouse explain --request-id ID --json`): decision, checks, rules, credential and claims.
 * Claim values that are secrets are never sent by the API; the panel also refuses to show any
 * value whose name says it is one.
 * @module
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { get, seg } from './api.js';
import { dateTime, ms } from './format.js';

/** Claim names whose values are never drawn, whatever the API sent. */
const SECRET_NAME = /secret|password|passwd|private|cookie|^nonce$|assertion$/i;

/** Keys the panel draws in a section of their own; anything else goes to "More". */
const KNOWN = new Set([
  'request_id',
  'found',
  'request',
  'route',
  'credential',
  'checks',
  'rules',
  'rules_source',
  'decision',
  'upstream',
  'timings',
  'related',
  'claims',
]);

/** @param {unknown} v */
function show(v) {
  if (v === undefined || v === null || v === '') return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** @param {{ title: string, obj: Record<string, unknown> | undefined, mask?: boolean }} p */
function Pairs({ title, obj, mask }) {
  if (!obj || typeof obj !== 'object') return null;
  const entries = Object.entries(obj).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return null;
  return html`<section class="pairs">
    <h4>${title}</h4>
    <dl>
      ${entries.map(
        ([k, v]) =>
          html`<div class="pair">
            <dt>${k}</dt>
            <dd class="mono">
              ${mask && SECRET_NAME.test(k) ? html`<span class="muted">(secret, not shown)</span>` : show(v)}
            </dd>
          </div>`,
      )}
    </dl>
  </section>`;
}

/** @param {{ title: string, items: { check: string, pass: boolean, detail?: string }[] | undefined, note?: string }} p */
function Checks({ title, items, note }) {
  if (!Array.isArray(items) || items.length === 0) return null;
  return html`<section>
    <h4>${title}${note ? html` <span class="muted">(${note})</span>` : null}</h4>
    <ol class="checks">
      ${items.map(
        (c) =>
          html`<li class=${c.pass ? 'pass' : 'fail'}>
            <span class="mark" aria-hidden="true">${c.pass ? '✓' : '✗'}</span>
            <span class="sr-only">${c.pass ? 'passed' : 'failed'}:</span>
            <span class="check">${c.check}</span>
            ${c.detail ? html`<span class="detail">${c.detail}</span>` : null}
          </li>`,
      )}
    </ol>
  </section>`;
}

/** @param {{ decision: import('./live.js').Decision, onClose: () => void }} p */
export function Explain({ decision, onClose }) {
  const [report, setReport] = useState(/** @type {any} */ (null));
  const [error, setError] = useState(/** @type {{ status: number, message: string } | null} */ (null));
  const [attempt, setAttempt] = useState(0);
  const heading = useRef(/** @type {HTMLHeadingElement | null} */ (null));

  useEffect(() => {
    heading.current?.focus();
  }, []);
  useEffect(() => {
    let stopped = false;
    setError(null);
    get(`api/explain/${seg(decision.id)}`).then(
      (r) => !stopped && setReport(r),
      (e) => !stopped && setError({ status: e.status ?? 0, message: e.message }),
    );
    return () => {
      stopped = true;
    };
  }, [decision.id, attempt]);

  const d = report?.decision;
  const extra = report ? Object.fromEntries(Object.entries(report).filter(([k]) => !KNOWN.has(k))) : {};
  return html`<aside
    class="panel"
    role="region"
    aria-labelledby="explain-h"
    onKeyDown=${(/** @type {KeyboardEvent} */ e) => e.key === 'Escape' && onClose()}
  >
    <div class="panel-head">
      <h3 id="explain-h" tabindex="-1" ref=${heading}>Explanation</h3>
      <button type="button" class="ghost" onClick=${onClose} aria-label="Close the explanation">✕</button>
    </div>
    <p class="mono small">request ${decision.id}</p>
    <p class="mono small muted">gatehouse explain --request-id ${decision.id}</p>
    ${
      error
        ? html`<div class="banner error" role="alert">
            ${
              error.status === 404
                ? 'This request is not in the audit trail (yet).'
                : `The explanation could not be loaded: ${error.message}`
            }
            <button type="button" onClick=${() => setAttempt((n) => n + 1)}>Try again</button>
          </div>`
        : !report
          ? html`<p class="muted" role="status">Loading…</p>`
          : html`
              ${
                d
                  ? html`<section class="verdict ${d.decision === 'deny' ? 'deny' : 'allow'}">
                      <p>
                        <span class=${`badge ${d.decision === 'deny' ? 'bad' : 'good'}`}>${d.decision}</span>
                        <strong> ${d.status}</strong>
                        ${d.rule ? html` by rule <code>${d.rule}</code>` : null}
                      </p>
                      ${
                        Array.isArray(d.reasons) && d.reasons.length
                          ? html`<p>
                              Reason: ${d.reasons.map((r) => html`<code class="reason">${r}</code> `)}
                            </p>`
                          : null
                      }
                      ${d.public_reason ? html`<p>Client was told: <code>${d.public_reason}</code></p>` : null}
                      ${d.error ? html`<p>Error: <code>${d.error}</code>${d.detail ? ` — ${d.detail}` : ''}</p>` : null}
                    </section>`
                  : null
              }
              <${Pairs}
                title="Request"
                obj=${report.request && { ...report.request, time: dateTime(report.request.time) }}
              />
              <${Pairs} title="Route" obj=${report.route} />
              <${Checks} title="Checks" items=${report.checks} />
              <${Checks}
                title="Rules"
                items=${report.rules}
                note=${report.rules_source === 'reconstructed' ? 'reconstructed from the deciding rule' : undefined}
              />
              <${Pairs} title="Credential" obj=${report.credential} mask />
              <${Pairs} title="Claims" obj=${report.claims} mask />
              ${
                report.timings
                  ? html`<section class="pairs">
                      <h4>Timings</h4>
                      <dl>
                        <div class="pair">
                          <dt>total</dt>
                          <dd>${ms(report.timings.total_ms)}</dd>
                        </div>
                        <div class="pair">
                          <dt>gateway</dt>
                          <dd>${ms(report.timings.gateway_ms)}</dd>
                        </div>
                        <div class="pair">
                          <dt>upstream</dt>
                          <dd>${ms(report.timings.upstream_ms)}</dd>
                        </div>
                      </dl>
                    </section>`
                  : null
              }
              ${
                Array.isArray(report.related) && report.related.length
                  ? html`<section>
                      <h4>Related events</h4>
                      <ul class="plain">
                        ${report.related.map(
                          (/** @type {any} */ r) =>
                            html`<li>
                              <code>${r.type}</code> ${dateTime(r.time)} ${r.decision}
                              ${(r.reasons ?? []).join(', ')}
                            </li>`,
                        )}
                      </ul>
                    </section>`
                  : null
              }
              ${Object.keys(extra).length ? html`<${Pairs} title="More" obj=${extra} mask />` : null}
            `
    }
  </aside>`;
}
