import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Absolute path of a system binary, or a thrown error saying which Debian package to install. */
export function requireBinary(name: string, debianPackage: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/sbin', '/bin']) {
    const p = `${dir}/${name}`;
    if (existsSync(p)) return p;
  }
  try {
    return execFileSync('which', [name], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      `${name} is required by this test: install it with "apt-get install -y ${debianPackage}" (or run bash .ci/run)`,
    );
  }
}
