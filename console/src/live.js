/**
 * Live: the stream of decisions (Server-Sent Events from `api/decisions/stream`), filtered by
 * user, route, decision, reason and status; pause and resume; a row opens its explanation.
 * @module
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { get, query } from './api.js';
import { clock, ms, principal } from './format.js';
import { Explain } from './explain.js';

/** Rows kept on screen; older ones fall off the end. */
const MAX_ROWS = 500;
/** New decisions are drawn in batches, at most this often (ms). */
const FLUSH_MS = 250;

/** @typedef {{ id: string, time: string, instance?: string, method?: string, host?: string, path?: string, route?: string, principal?: { kind?: string, name?: string }, decision: string, reason?: string, reasons?: string[], error?: string | null, status?: number, gateway_ms?: number, upstream_ms?: number }} Decision */
/** @typedef {{ user: string, route: string, decision: string, reason: string, status: string }} Filters */

const EMPTY = { user: '', route: '', decision: '', reason: '', status: '' };

/** @param {Decision[]} list newest first, without duplicate ids */
function dedupe(list) {
  const seen = new Set();
  const out = [];
  for (const d of list) {
    if (!d || typeof d.id !== 'string' || seen.has(d.id)) continue;
    seen.add(d.id);
    out.push(d);
    if (out.length >= MAX_ROWS) break;
  }
  return out;
}

/** @param {{ filters: Filters, onChange: (f: Filters) => void }} p */
function FilterBar({ filters, onChange }) {
  const [draft, setDraft] = useState(filters);
  const timer = useRef(/** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined));
  /** @param {keyof Filters} k @param {string} v */
  const set = (k, v) => {
    const next = { ...draft, [k]: v };
    setDraft(next);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => onChange(next), k === 'decision' ? 0 : 400);
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  /** @param {keyof Filters} k @param {string} label @param {string} hint */
  const text = (k, label, hint) =>
    html`<label class="field">
      <span>${label}</span>
      <input
        type="search"
        name=${k}
        value=${draft[k]}
        placeholder=${hint}
        autocomplete="off"
        onInput=${(/** @type {any} */ e) => set(k, e.currentTarget.value)}
      />
    </label>`;
  return html`<form
    class="filters"
    role="search"
    aria-label="Filter decisions"
    onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      clearTimeout(timer.current);
      onChange(draft);
    }}
  >
    ${text('user', 'User', 'alice')} ${text('route', 'Route', 'payroll')}
    <label class="field">
      <span>Decision</span>
      <select
        name="decision"
        value=${draft.decision}
        onChange=${(/** @type {any} */ e) => set('decision', e.currentTarget.value)}
      >
        <option value="">any</option>
        <option value="allow">allow</option>
        <option value="deny">deny</option>
        <option value="error">error</option>
      </select>
    </label>
    ${text('reason', 'Reason', 'rule.deny')} ${text('status', 'Status', '403 or 4xx')}
    <button
      type="button"
      class="ghost"
      onClick=${() => {
        setDraft(EMPTY);
        onChange(EMPTY);
      }}
    >
      Clear
    </button>
  </form>`;
}

/** @param {{ d: Decision, selected: boolean, onOpen: (d: Decision) => void }} p */
function Row({ d, selected, onOpen }) {
  const deny = d.decision === 'deny';
  return html`<tr
    tabindex="0"
    class=${`${deny ? 'deny' : 'allow'}${selected ? ' selected' : ''}`}
    data-id=${d.id}
    aria-selected=${selected ? 'true' : 'false'}
    onClick=${() => onOpen(d)}
    onKeyDown=${(/** @type {KeyboardEvent} */ e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        onOpen(d);
      }
    }}
  >
    <td class="mono" title=${d.time}>${clock(d.time)}</td>
    <td><span class="chip">${d.instance ?? '—'}</span></td>
    <td class="principal">
      <span class="kind">${d.principal?.kind ?? 'anonymous'}</span> ${principal(d.principal)}
    </td>
    <td class="mono path" title=${`${d.method ?? ''} ${d.host ?? ''}${d.path ?? ''}`}>
      ${d.method} <span class="muted">${d.host}</span>${d.path}
    </td>
    <td>${d.route ?? html`<span class="muted">none</span>`}</td>
    <td><span class=${`badge ${deny ? 'bad' : 'good'}`}>${d.decision}</span></td>
    <td class="mono" title=${[d.error, ...(d.reasons ?? [])].filter(Boolean).join(', ')}>
      ${d.reason ?? ''}
    </td>
    <td class="num">${d.status ?? ''}</td>
    <td class="num">${ms(d.gateway_ms)}</td>
    <td class="num">${ms(d.upstream_ms)}</td>
  </tr>`;
}

export function Live() {
  const [filters, setFilters] = useState(/** @type {Filters} */ (EMPTY));
  const [rows, setRows] = useState(/** @type {Decision[]} */ ([]));
  const [paused, setPaused] = useState(false);
  const [waiting, setWaiting] = useState(0);
  const [state, setState] = useState('connecting');
  const [error, setError] = useState('');
  const [open, setOpen] = useState(/** @type {Decision | null} */ (null));
  const [attempt, setAttempt] = useState(0);
  const queue = useRef(/** @type {Decision[]} */ ([]));
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  useEffect(() => {
    let stopped = false;
    queue.current = [];
    setWaiting(0);
    setError('');
    setState('connecting');
    get('api/decisions', { ...filters, limit: MAX_ROWS }).then(
      (r) => {
        if (stopped) return;
        const items = Array.isArray(r?.items) ? [...r.items] : [];
        items.sort((a, b) => String(b.time).localeCompare(String(a.time)));
        setRows(dedupe([...queue.current.slice().reverse(), ...items]));
      },
      (e) => !stopped && setError(`Could not load recent decisions: ${e.message}`),
    );
    const es = new EventSource(`api/decisions/stream${query(filters)}`);
    es.addEventListener('open', () => setState('live'));
    es.addEventListener('error', () =>
      setState(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'),
    );
    es.addEventListener('decision', (ev) => {
      try {
        queue.current.push(JSON.parse(/** @type {MessageEvent} */ (ev).data));
        if (queue.current.length > MAX_ROWS) queue.current.splice(0, queue.current.length - MAX_ROWS);
        if (pausedRef.current) setWaiting(queue.current.length);
      } catch {
        // a malformed event is skipped, the stream goes on
      }
    });
    const flush = setInterval(() => {
      if (pausedRef.current || queue.current.length === 0) return;
      const fresh = queue.current.splice(0).reverse();
      setRows((cur) => dedupe([...fresh, ...cur]));
    }, FLUSH_MS);
    return () => {
      stopped = true;
      es.close();
      clearInterval(flush);
    };
  }, [filters, attempt]);

  const denied = rows.filter((r) => r.decision === 'deny').length;
  const resume = () => {
    setPaused(false);
    setWaiting(0);
  };
  /** @param {Decision} d */
  const openRow = (d) => setOpen(d);

  return html`<section class="view live" aria-labelledby="live-h">
    <div class="toolbar">
      <h2 id="live-h">Live decisions</h2>
      <span class=${`conn ${state}`} role="status">
        ${state === 'live' ? '● live' : state === 'closed' ? '○ disconnected' : '◌ connecting…'}
      </span>
      ${
        state === 'closed'
          ? html`<button type="button" onClick=${() => setAttempt((n) => n + 1)}>Reconnect</button>`
          : null
      }
      <button
        type="button"
        aria-pressed=${paused ? 'true' : 'false'}
        onClick=${() => (paused ? resume() : setPaused(true))}
      >
        ${paused ? `Resume${waiting ? ` (${waiting} new)` : ''}` : 'Pause'}
      </button>
      <p class="count" aria-live="polite" aria-atomic="true" id="stream-count">
        ${rows.length} decisions shown, ${denied} refused${paused ? ' — paused' : ''}
      </p>
    </div>
    <${FilterBar} filters=${filters} onChange=${setFilters} />
    ${error ? html`<p class="banner error" role="alert">${error}</p>` : null}
    <div class=${`split${open ? ' with-panel' : ''}`}>
      <div class="table-wrap">
        <table class="decisions">
          <caption class="sr-only">
            Decisions, newest first. Press Enter on a row to open its explanation.
          </caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Instance</th>
              <th scope="col">Principal</th>
              <th scope="col">Request</th>
              <th scope="col">Route</th>
              <th scope="col">Decision</th>
              <th scope="col">Reason</th>
              <th scope="col" class="num">Status</th>
              <th scope="col" class="num">Gateway</th>
              <th scope="col" class="num">Upstream</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map((d) => html`<${Row} key=${d.id} d=${d} selected=${open?.id === d.id} onOpen=${openRow} />`)}
          </tbody>
        </table>
        ${
          rows.length === 0
            ? html`<p class="empty">
                No decisions yet${Object.values(filters).some(Boolean) ? ' match these filters' : ''}: they
                appear here as requests arrive.
              </p>`
            : null
        }
      </div>
      ${
        open
          ? html`<${Explain}
              key=${open.id}
              decision=${open}
              onClose=${() => {
                const id = open.id;
                setOpen(null);
                requestAnimationFrame(() =>
                  /** @type {HTMLElement | null} */ (
                    document.querySelector(`tr[data-id="${CSS.escape(id)}"]`)
                  )?.focus(),
                );
              }}
            />`
          : null
      }
    </div>
  </section>`;
}
