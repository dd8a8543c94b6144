/**
 * A time-series chart (uPlot on a canvas) with a text summary for screen readers.
 * @module
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

/** @typedef {{ label: string, color: string, values: (number | null)[], dash?: number[] }} Series */

/** True when some value stands alone between gaps: a line cannot show it, a point must. @param {(number | null)[]} vs */
function isolated(vs) {
  return vs.some((v, i) => v !== null && (vs[i - 1] ?? null) === null && (vs[i + 1] ?? null) === null);
}

/** `14:05` of a time in seconds. @param {number} s */
const hhmm = (s) =>
  new Date(s * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });

/**
 * @param {{ title: string, xs: number[], series: Series[], unit?: string, fmt?: (v: number) => string, summary: string, height?: number, range?: [number, number] }} p
 */
export function Chart({
  title,
  xs,
  series,
  unit = '',
  fmt = (v) => String(Math.round(v * 100) / 100),
  summary,
  height = 180,
  range,
}) {
  const box = useRef(/** @type {HTMLDivElement | null} */ (null));
  const plot = useRef(/** @type {uPlot | null} */ (null));
  const shape = series.map((s) => `${s.label}${isolated(s.values) ? '•' : ''}`).join('|');
  const data = /** @type {uPlot.AlignedData} */ ([xs, ...series.map((s) => s.values)]);

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    /** @type {uPlot.Options} */
    const opts = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: range ? { range } : { range: (_u, _min, mx) => [0, mx > 0 ? mx * 1.1 : 1] },
      },
      axes: [
        {
          stroke: '#4b5563',
          grid: { stroke: '#e5e7eb' },
          ticks: { stroke: '#d1d5db' },
          values: (_u, vals) => vals.map(hhmm),
        },
        {
          stroke: '#4b5563',
          grid: { stroke: '#e5e7eb' },
          ticks: { stroke: '#d1d5db' },
          size: 72,
          values: (_u, vals) => vals.map((v) => (v === null ? '' : `${fmt(v)}${unit}`)),
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash,
          spanGaps: false,
          points: { show: isolated(s.values), size: 6 },
          value: (/** @type {uPlot} */ _u, /** @type {number | null} */ v) =>
            v === null || v === undefined ? '—' : `${fmt(v)}${unit}`,
        })),
      ],
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // the plot is rebuilt only when its series change; new data goes through setData below
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  const empty = xs.length === 0;
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <div class="plot" ref=${box} role="img" aria-label=${`${title}: ${summary}`}></div>
    ${empty ? html`<p class="muted small">No requests in this window yet.</p>` : null}
  </figure>`;
}
