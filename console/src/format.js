/**
 * Formatting of times, durations and numbers for the console's tables and charts.
 * @module
 */

/** `12:03:04` (local time) of an ISO time; the full ISO time stays in the title. @param {string | undefined} iso */
export function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleTimeString(undefined, { hour12: false });
}

/** A date and time, e.g. `2026-12-05 22:31:07`. @param {string | number | undefined | null} v */
export function dateTime(v) {
  if (v === undefined || v === null || v === '') return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Milliseconds with a precision that fits their size. @param {number | undefined | null} v */
export function ms(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 100) return `${v.toFixed(1)} ms`;
  return `${Math.round(v)} ms`;
}

/** A duration in seconds, e.g. `42 s`, `5 min`, `3 h`, `2 d`. @param {number | undefined | null} s */
export function age(s) {
  if (s === undefined || s === null || Number.isNaN(s)) return '—';
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** A count with thousands separators. @param {number | undefined | null} n */
export function count(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '—';
  return n.toLocaleString('en-US');
}

/** A ratio as a percentage, `—` without a denominator. @param {number} part @param {number} whole */
export function percent(part, whole) {
  if (!whole) return '—';
  return `${((100 * part) / whole).toFixed(1)} %`;
}

/** `user alice`, `agent build-bot`, `anonymous`. @param {{ kind?: string, name?: string } | undefined} p */
export function principal(p) {
  if (!p || p.kind === 'anonymous' || !p.name) return 'anonymous';
  return p.name;
}
