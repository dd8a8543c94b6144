import { createReadStream, statSync, type Stats } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import { GatehouseError } from '../errors/index.js';

/** `console/dist` of the installed package (src/admin and dist/admin both sit two levels down). */
export const CONSOLE_DIST = resolve(fileURLToPath(new URL('../../console/dist', import.meta.url)));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite's hashed asset names (`index-3f2a1b9c.js`): cached for a year, immutable. */
const HASHED = /[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;
/** One path segment of an asset: no dot-segments, no separators, no NUL. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/;

/** Security headers of every console response: no framing, no sniffing, same-origin only scripts. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

function fileAt(root: string, path: string): { file: string; stat: Stats } | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  if (!segments.every((s) => SEGMENT.test(s) && s !== '..' && s !== '.')) return undefined;
  const file = resolve(join(root, ...segments));
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  try {
    const stat = statSync(file);
    return stat.isFile() ? { file, stat } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the console from `root` (a normalised request path; `/` and unknown extension-less
 * paths get index.html so client-side views reload). Paths are checked segment by segment and
 * must resolve inside `root` (no traversal, no dotfiles). Hashed assets are immutable for a
 * year, index.html is `no-cache`. Throws GH_ADMIN_CONSOLE_NOT_BUILT when `root` has no
 * index.html, GH_ADMIN_NOT_FOUND for a missing asset.
 */
export function serveStatic(res: ServerResponse, method: string, path: string, root = CONSOLE_DIST): void {
  const index = fileAt(root, 'index.html');
  if (index === undefined)
    throw new GatehouseError(
      'GH_ADMIN_CONSOLE_NOT_BUILT',
      `${root}/index.html is missing: run npm run build`,
    );
  let hit = path === '/' || path === '' ? index : fileAt(root, path);
  if (hit === undefined) {
    if (extname(path) !== '') throw new GatehouseError('GH_ADMIN_NOT_FOUND', `no console asset ${path}`);
    hit = index;
  }
  const ext = extname(hit.file);
  res.writeHead(200, {
    ...CONSOLE_HEADERS,
    'Content-Type': TYPES[ext] ?? 'application/octet-stream',
    'Content-Length': String(hit.stat.size),
    'Cache-Control':
      hit !== index && HASHED.test(hit.file) ? 'public, max-age=31536000, immutable' : 'no-cache',
    'Last-Modified': hit.stat.mtime.toUTCString(),
  });
  if (method === 'HEAD') return void res.end();
  createReadStream(hit.file).pipe(res);
}
