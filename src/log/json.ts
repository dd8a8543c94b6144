/**
 * Pieces of hand-built JSON log lines: a string literal that copies plain text as is, and a
 * timestamp formatted once per second. Output is byte-for-byte what `JSON.stringify` and
 * `Date.prototype.toISOString` give.
 */

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON string literal; printable ASCII without `"` or `\` (almost every value) is copied as is. */
export function jsonString(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

let lastSecond = 0;
let secondPrefix = '';

/** `new Date().toISOString()`, with the part up to the seconds formatted once per second. */
export function isoNow(): string {
  const now = Date.now();
  const second = now - (now % 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    secondPrefix = new Date(second).toISOString().slice(0, 20);
  }
  const m = now - second;
  return `${secondPrefix}${m < 10 ? '00' : m < 100 ? '0' : ''}${m}Z`;
}
