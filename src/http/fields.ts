/** RFC 9110 §5.6.2 `token`: a field name or method. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** `text[from, to)` without leading and trailing OWS (SP / HTAB, RFC 9110 §5.6.3). */
export function withoutOws(text: string, from: number, to: number): string {
  while (from < to && isOws(text.charCodeAt(from))) from++;
  while (to > from && isOws(text.charCodeAt(to - 1))) to--;
  return text.slice(from, to);
}
