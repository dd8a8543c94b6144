/** RFC 9110 §5.6.2 `token`: a field name or method. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A control character other than HTAB: never in a field value (RFC 9110 §5.5), so no header
 * injection. Code points above U+00FF too: heads are written as latin1, which keeps only the low
 * byte (U+010A would leave as a line feed).
 */
export const FIELD_CTL = /[\0-\x08\x0a-\x1f\x7f\u0100-\uffff]/;

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** `text[from, to)` without leading and trailing OWS (SP / HTAB, RFC 9110 §5.6.3). */
export function withoutOws(text: string, from: number, to: number): string {
  while (from < to && isOws(text.charCodeAt(from))) from++;
  while (to > from && isOws(text.charCodeAt(to - 1))) to--;
  return text.slice(from, to);
}
