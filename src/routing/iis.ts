import { GatehouseError } from '../errors/index.js';

const SLASH = 0x2f;
const DOT = 0x2e;
const PCT = 0x25;

/**
 * Why IIS could serve `path` (a normalised path) as a different path, or undefined. IIS (and
 * Windows) strip trailing dots and spaces from segments (`/admin./` → `/admin/`), treat `:` as
 * an NTFS stream separator (`/admin::$DATA`) and resolve 8.3 short names (`/ADMINI~1`); Windows
 * and .NET case-insensitive comparison and "best-fit" code-page mapping turn some non-ASCII
 * characters into ASCII letters (`ı` → `I`, `ſ` → `S`, Kelvin `K`, full-width `ａ`), so their
 * escapes are refused too.
 */
export function iisProblem(path: string): string | undefined {
  const n = path.length;
  let segStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? path.charCodeAt(i) : SLASH;
    if (c === SLASH) {
      if (i > segStart + 1 && endsWithDotOrSpace(path, segStart + 1, i)) {
        return 'segment ends with a dot or space (IIS strips it)';
      }
      segStart = i;
    } else if (
      c === 0x3a ||
      (c === PCT && path.charCodeAt(i + 1) === 0x33 && (path.charCodeAt(i + 2) | 0x20) === 0x61)
    ) {
      return '":" in a segment (NTFS alternate data stream)';
    } else if (c === PCT && foldsToAscii(path, i)) {
      return 'non-ASCII character that Windows folds to an ASCII letter';
    } else if (c === 0x7e) {
      const d = path.charCodeAt(i + 1);
      if (d >= 0x30 && d <= 0x39) return '"~<digit>" in a segment (8.3 short name)';
    }
  }
  return undefined;
}

/** UTF-8 escapes of U+0130, U+0131, U+017F, U+212A and the full-width forms U+FF01–U+FF5E. */
const FOLDS_TO_ASCII = ['%C4%B0', '%C4%B1', '%C5%BF', '%E2%84%AA', '%EF%BC', '%EF%BD'];

function foldsToAscii(s: string, at: number): boolean {
  next: for (const f of FOLDS_TO_ASCII) {
    for (let k = 0; k < f.length; k++) {
      const c = s.charCodeAt(at + k);
      if ((c >= 0x61 && c <= 0x7a ? c - 0x20 : c) !== f.charCodeAt(k)) continue next;
    }
    return true;
  }
  return false;
}

/** True when `path[a..b)` ends with `.`, space, `%20` or `%2E`. */
function endsWithDotOrSpace(path: string, a: number, b: number): boolean {
  const last = path.charCodeAt(b - 1);
  if (last === DOT || last === 0x20) return true;
  if (b - a < 3 || path.charCodeAt(b - 3) !== PCT || path.charCodeAt(b - 2) !== 0x32) return false;
  return last === 0x30 || (last | 0x20) === 0x65;
}

/**
 * Throws `GH_PATH_AMBIGUOUS` when a case-insensitive (IIS-backed) route could be reached through
 * a path IIS interprets differently: see {@link iisProblem}.
 */
export function checkIisSegments(path: string): void {
  const problem = iisProblem(path);
  if (problem !== undefined) throw new GatehouseError('GH_PATH_AMBIGUOUS', problem);
}
