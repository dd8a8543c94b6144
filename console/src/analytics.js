/**
 * Analytics: request rate, allowed and refused, latency percentiles split into gateway and
 * upstream, rate-limit hits and cache hit ratio over a chosen window (`api/analytics`), with the
 * top deny reasons, top denied principals and a per-route table.
 * @module
 */
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { get } from './api.js';
import { count, dateTime, ms, percent } from './format.js';
import { Chart } from './chart.js';

const WINDOWS = [
  { id: '15m', label: 'Last 15 minutes' },
  { id: '1h', label: 'Last hour' },
  { id: '24h', label: 'Last 24 hours' },
];
/** Reloads while the section is open (ms). */
const REFRESH_MS = 10_000;

const C = {
  blue: '#1d4ed8',
  green: '#15803d',
  red: '#b91c1c',
  orange: '#c2410c',
  purple: '#7e22ce',
  teal: '#0f766e',
};

/** Seconds since the epoch of a series time (ISO string, seconds or milliseconds). @param {unknown} t */
function seconds(t) {
  if (typeof t === 'number') return t > 1e12 ? t / 1000 : t;
  const n = Date.parse(String(t));
  return Number.isNaN(n) ? 0 : n / 1000;
}

/** @param {(number | null | undefined)[]} vs */
const num = (vs) => vs.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
/** @param {(number | null)[]} vs */
const sum = (vs) => vs.reduce((/** @type {number} */ a, v) => a + (v ?? 0), 0);
/** @param {(number | null)[]} vs */
const max = (vs) => vs.reduce((/** @type {number} */ a, v) => (v !== null && v > a ? v : a), 0);

/** @param {{ label: string, value: string, tone?: string }} p */
const Tile = ({ label, value, tone }) =>
  html`<div class=${`tile ${tone ?? ''}`}>
    <div class="tile-v">${value}</div>
    <div class="tile-l">${label}</div>
  </div>`;

/** @param {any} a the API answer */
function Charts({ a }) {
  const s = Array.isArray(a.series) ? a.series : [];
  const step = a.step_s > 0 ? a.step_s : 60;
  const xs = s.map((/** @type {any} */ p) => seconds(p.t));
  /** @param {string} k */
  const col = (k) => num(s.map((/** @type {any} */ p) => p[k]));
  const requests = col('requests');
  const allowed = col('allowed');
  const denied = col('denied');
  const limited = col('rate_limited');
  const hits = col('cache_hits');
  const misses = col('cache_misses');
  const rate = requests.map((v) => (v === null ? null : v / step));
  const ratio = hits.map((h, i) => {
    const m = misses[i] ?? 0;
    return h === null || h + m === 0 ? null : (100 * h) / (h + m);
  });
  const total = sum(requests);
  const totalDenied = sum(denied);
  const totalHits = sum(hits);
  const totalLookups = totalHits + sum(misses);
  const g95 = col('gateway_p95');
  const u95 = col('upstream_p95');
  const per = step % 3600 === 0 ? `${step / 3600} h` : step % 60 === 0 ? `${step / 60} min` : `${step} s`;
  const two = (/** @type {number} */ v) => (v < 10 ? v.toFixed(2) : v.toFixed(0));
  return html`
    <div class="tiles" role="group" aria-label="Totals in this window">
      <${Tile} label="requests" value=${count(total)} />
      <${Tile}
        label=${`refused (${percent(totalDenied, total)})`}
        value=${count(totalDenied)}
        tone=${totalDenied ? 'bad' : ''}
      />
      <${Tile} label="rate-limited" value=${count(sum(limited))} />
      <${Tile} label="cache hit ratio" value=${percent(totalHits, totalLookups)} />
      <${Tile} label="gateway p95 (max)" value=${ms(max(g95))} />
      <${Tile} label="upstream p95 (max)" value=${ms(max(u95))} />
    </div>
    <div class="charts">
      <${Chart}
        title="Request rate"
        xs=${xs}
        unit="/s"
        fmt=${two}
        series=${[{ label: 'requests/s', color: C.blue, values: rate }]}
        summary=${`${count(total)} requests, peak ${two(max(rate))} per second`}
      />
      <${Chart}
        title=${`Allowed and refused, per ${per}`}
        xs=${xs}
        series=${[
          { label: 'allowed', color: C.green, values: allowed },
          { label: 'refused', color: C.red, values: denied },
        ]}
        summary=${`${count(sum(allowed))} allowed, ${count(totalDenied)} refused`}
      />
      <${Chart}
        title="Latency: gateway"
        xs=${xs}
        unit=" ms"
        fmt=${two}
        series=${[
          { label: 'p50', color: C.teal, values: col('gateway_p50') },
          { label: 'p95', color: C.orange, values: g95 },
          { label: 'p99', color: C.red, values: col('gateway_p99'), dash: [4, 3] },
        ]}
        summary=${`gateway p95 at most ${ms(max(g95))}`}
      />
      <${Chart}
        title="Latency: upstream"
        xs=${xs}
        unit=" ms"
        fmt=${two}
        series=${[
          { label: 'p50', color: C.teal, values: col('upstream_p50') },
          { label: 'p95', color: C.orange, values: u95 },
          { label: 'p99', color: C.red, values: col('upstream_p99'), dash: [4, 3] },
        ]}
        summary=${`upstream p95 at most ${ms(max(u95))}`}
      />
      <${Chart}
        title=${`Rate-limit hits, per ${per}`}
        xs=${xs}
        series=${[{ label: 'rate-limited', color: C.purple, values: limited }]}
        summary=${`${count(sum(limited))} requests rate-limited`}
      />
      <${Chart}
        title="Cache hit ratio"
        xs=${xs}
        unit=" %"
        fmt=${(/** @type {number} */ v) => v.toFixed(0)}
        range=${[0, 100]}
        series=${[{ label: 'hit ratio', color: C.blue, values: ratio }]}
        summary=${`hit ratio ${percent(totalHits, totalLookups)} over the window`}
      />
    </div>
  `;
}

/** @param {{ caption: string, cols: string[], rows: (string | number)[][], empty: string }} p */
function Table({ caption, cols, rows, empty }) {
  return html`<table class="small-table">
    <caption>
      ${caption}
    </caption>
    <thead>
      <tr>
        ${cols.map((c, i) => html`<th scope="col" class=${i ? 'num' : ''}>${c}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${
        rows.length
          ? rows.map(
              (r) =>
                html`<tr>
                  ${r.map((v, i) => (i ? html`<td class="num">${v}</td>` : html`<th scope="row">${v}</th>`))}
                </tr>`,
            )
          : html`<tr>
              <td colspan=${cols.length} class="muted">${empty}</td>
            </tr>`
      }
    </tbody>
  </table>`;
}

export function Analytics() {
  const [win, setWin] = useState('15m');
  const [route, setRoute] = useState('');
  const [who, setWho] = useState('');
  const [data, setData] = useState(/** @type {any} */ (null));
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), REFRESH_MS);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    let stopped = false;
    get('api/analytics', { window: win, route, principal: who }).then(
      (r) => {
        if (stopped) return;
        setData(r);
        setError('');
      },
      (e) => !stopped && setError(`Could not load analytics: ${e.message}`),
    );
    return () => {
      stopped = true;
    };
  }, [win, route, who, tick]);

  return html`<section class="view analytics" aria-labelledby="an-h">
    <div class="toolbar">
      <h2 id="an-h">Analytics</h2>
      <form
        class="filters inline"
        onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}
        aria-label="Analytics window and filters"
      >
        <label class="field">
          <span>Window</span>
          <select
            name="window"
            value=${win}
            onChange=${(/** @type {any} */ e) => setWin(e.currentTarget.value)}
          >
            ${WINDOWS.map((w) => html`<option value=${w.id}>${w.label}</option>`)}
          </select>
        </label>
        <label class="field">
          <span>Route</span>
          <input
            type="search"
            name="route"
            value=${route}
            placeholder="all routes"
            onChange=${(/** @type {any} */ e) => setRoute(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Principal</span>
          <input
            type="search"
            name="principal"
            value=${who}
            placeholder="everyone"
            onChange=${(/** @type {any} */ e) => setWho(e.currentTarget.value)}
          />
        </label>
        <button type="button" onClick=${() => setTick((n) => n + 1)}>Refresh</button>
      </form>
      ${data ? html`<span class="muted small" role="status">Updated ${dateTime(Date.now())}${data.instance ? ` · instance ${data.instance}` : ''}${data.source ? ` · from the ${data.source}` : ''}</span>` : null}
    </div>
    ${error ? html`<p class="banner error" role="alert">${error}</p>` : null}
    ${
      !data
        ? html`<p class="muted" role="status">Loading…</p>`
        : html`
            <${Charts} a=${data} />
            <div class="tables">
              <${Table}
                caption="Top deny reasons"
                cols=${['Reason', 'Count']}
                rows=${(data.top_deny_reasons ?? []).map((/** @type {any} */ r) => [r.reason, count(r.count)])}
                empty="No refusals in this window."
              />
              <${Table}
                caption="Top denied principals"
                cols=${['Principal', 'Count']}
                rows=${(data.top_denied_principals ?? []).map((/** @type {any} */ r) => [r.name, count(r.count)])}
                empty="No refusals in this window."
              />
              <${Table}
                caption="Routes"
                cols=${['Route', 'Requests', 'Refused', 'p50', 'p95', 'p99']}
                rows=${(data.routes ?? []).map((/** @type {any} */ r) => [
                  r.route,
                  count(r.requests),
                  `${count(r.denied)} (${percent(r.denied, r.requests)})`,
                  ms(r.p50),
                  ms(r.p95),
                  ms(r.p99),
                ])}
                empty="No requests in this window."
              />
            </div>
          `
    }
  </section>`;
}
