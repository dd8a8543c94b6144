import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { GatehouseError } from '../errors/index.js';
import { classifyFailure, type ToolFailure } from './kdc-messages.js';

export { classifyFailure, type ToolFailure } from './kdc-messages.js';

/** The MIT krb5 client programs Gatehouse runs (Debian/Ubuntu: krb5-user; RHEL: krb5-workstation). */
export const TOOLS = ['kinit', 'kvno'] as const;

/** Install hint shown when a tool or the native module is missing. */
export const TOOLS_HINT =
  'install MIT Kerberos client tools (Debian/Ubuntu: apt-get install krb5-user; RHEL: dnf install krb5-workstation)';

/** The tool's absolute path from PATH, or undefined. Looked up once at config load. */
export function findTool(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next directory
    }
  }
  return undefined;
}

/** The error a request gets for a tool failure: 503 (KDC down, other), 403 (user, delegation). */
export function failureError(kind: ToolFailure, detail: string): GatehouseError {
  switch (kind) {
    case 'kdc_unavailable':
      return new GatehouseError('GH_KERBEROS_KDC_UNAVAILABLE', detail, { headers: { 'Retry-After': '5' } });
    case 'unknown_user':
      return new GatehouseError('GH_KERBEROS_UNKNOWN_USER', detail);
    case 'delegation_denied':
      return new GatehouseError('GH_KERBEROS_DELEGATION_DENIED', detail);
    default:
      return new GatehouseError('GH_KERBEROS_TICKET_FAILED', detail);
  }
}

/** A tool run that failed: its classification and the first line of its message. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(
    readonly kind: ToolFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs a tool without a shell (argv as given, validated by the caller), with `env` as its whole
 * environment plus PATH, and a timeout. Resolves on exit code 0; rejects with a {@link ToolError}.
 */
export function runTool(
  file: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...env },
        timeout: timeoutMs,
        windowsHide: true,
      },
      (err, _stdout, stderr) => {
        if (!err) return resolve();
        const text = String(stderr).trim() || err.message;
        const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
        const timedOut = (err as { killed?: boolean }).killed === true;
        reject(
          new ToolError(
            timedOut ? 'kdc_unavailable' : classifyFailure(text),
            `${line} (${file.split('/').pop()})`,
          ),
        );
      },
    );
  });
}
