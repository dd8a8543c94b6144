import { FORBIDDEN_SEGMENTS } from './schema.js';

/** One step of a compiled claim path: an own-property key, or an array index when numeric. */
interface Segment {
  readonly key: string;
  readonly index: number | undefined;
}

/** A claim path compiled once at load: `realm_access.roles` → two segments. */
export type ClaimPath = readonly Segment[];

/**
 * Compiles a dotted claim path (or an explicit list of segments, for keys that contain dots
 * such as Auth0 namespaced claims). Prototype-reaching segments are refused; the schema has
 * already reported them with their config path, this is the second line of defence.
 */
export function compileClaimPath(path: string | readonly string[]): ClaimPath {
  const segs = typeof path === 'string' ? path.split('.') : path;
  return segs.map((key) => {
    if (key === '' || FORBIDDEN_SEGMENTS.has(key))
      throw new Error(`claim path segment "${key}" is not allowed`);
    return { key, index: /^(?:0|[1-9]\d{0,8})$/.test(key) ? Number(key) : undefined };
  });
}

/**
 * Reads a claim by compiled path. Only own properties of plain JSON objects and indexes of
 * arrays are followed, so `toString`, `__proto__` & co. are never reached.
 */
export function readClaim(claims: Readonly<Record<string, unknown>>, path: ClaimPath): unknown {
  let cur: unknown = claims;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      if (seg.index === undefined || seg.index >= cur.length) return undefined;
      cur = cur[seg.index];
    } else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, seg.key)) {
      cur = (cur as Record<string, unknown>)[seg.key];
    } else {
      return undefined;
    }
  }
  return cur;
}

/** Human form of a compiled path for traces. */
export function formatClaimPath(path: ClaimPath): string {
  return path.map((s) => (s.key.includes('.') ? JSON.stringify(s.key) : s.key)).join('.');
}
