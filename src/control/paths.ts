import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

/**
 * Default control channel of the instance started with config file `configFile`: on Windows a
 * named pipe `\\.\pipe\gatehouse-<12 hex of the config path's SHA-256>`; elsewhere a Unix socket
 * beside the config file, its name with `.sock` instead of the extension
 * (`/etc/gatehouse/gatehouse.yaml` → `/etc/gatehouse/gatehouse.sock`). `gatehouse reload -c FILE`
 * derives the same path from the same file.
 */
export function defaultControlPath(configFile: string, platform: NodeJS.Platform = process.platform): string {
  const abs = resolve(configFile);
  if (platform === 'win32') {
    const id = createHash('sha256').update(abs.toLowerCase()).digest('hex').slice(0, 12);
    return `\\\\.\\pipe\\gatehouse-${id}`;
  }
  return abs.replace(/\.[^./\\]*$/, '') + '.sock';
}

/** True for a Windows named-pipe path (`\\.\pipe\…` or `\\?\pipe\…`). */
export function isPipePath(p: string): boolean {
  return /^\\\\[.?]\\pipe\\/i.test(p);
}
