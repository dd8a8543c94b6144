import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE = /^(\d+(?:\.\d+)?)(b|kb|mb|gb|k|m|g)?$/i;
const SIZE_MUL: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
};

/** Parses `500ms`, `10s`, `5m`, `1h`, `1d` or a number of milliseconds. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  const m = DURATION.exec(v.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (DURATION_MS[m[2] as string] as number));
}

/** Parses `512`, `64kb`, `10mb`, `2gb` (binary multiples) or a number of bytes. */
export function parseSize(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
  const m = SIZE.exec(v.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * (SIZE_MUL[(m[2] ?? 'b').toLowerCase()] as number));
}

/** A duration in config: `"10s"`, `"500ms"` or milliseconds. Output: milliseconds. */
export const duration = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like "500ms", "10s", "5m", got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return ms;
  })
  .meta({
    description: 'Duration: number of milliseconds or a string such as "500ms", "10s", "5m", "1h", "1d".',
  });

/** A size in config: `"10mb"`, `"64kb"` or bytes. Output: bytes. */
export const size = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const b = parseSize(v);
    if (b === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a size like "64kb", "10mb", got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return b;
  })
  .meta({ description: 'Size: number of bytes or a string such as "64kb", "10mb", "2gb".' });

/** An absolute http(s) URL. */
export const httpUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'expected an absolute http(s) URL' },
);
