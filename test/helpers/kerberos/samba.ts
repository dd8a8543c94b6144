import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBinary } from '../binaries.js';
import { waitFor } from '../ports.js';
import { spawnGroup } from './process-group.js';

const ADMIN_SCRIPT = fileURLToPath(new URL('./samba-admin.py', import.meta.url));

/** Runs `samba-tool domain provision` for CORP.TEST into `dir` (5–10 s; needs root: it chowns sysvol). */
export function provisionDomain(dir: string, adminPassword: string): Promise<void> {
  const tool = requireBinary('samba-tool', 'samba-common-bin samba-ad-provision samba-dsdb-modules');
  const args = [
    'domain',
    'provision',
    `--targetdir=${dir}`,
    '--realm=CORP.TEST',
    '--domain=CORP',
    '--server-role=dc',
    '--dns-backend=NONE',
    '--host-name=dc1',
    '--host-ip=127.0.0.1',
    `--adminpass=${adminPassword}`,
    '--option=interfaces=lo',
    '--option=bind interfaces only=yes',
  ];
  return new Promise((resolve, reject) => {
    execFile(tool, args, { timeout: 180_000 }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const hint = /samba-ad-provision|LDB_MODULES_PATH|not found/.test(stderr)
        ? ' (install the Debian packages samba-ad-provision and samba-dsdb-modules: bash scripts/test-deps.sh)'
        : '';
      reject(
        new Error(`samba-tool domain provision failed${hint}: ${stderr.slice(-2000)}${stdout.slice(-500)}`),
      );
    });
  });
}

/**
 * Rewrites the provisioned smb.conf for a KDC-only DC on `kdcPort`/`kpasswdPort` (loopback) with
 * every runtime path under `dir`.
 */
export function configureKdcOnly(dir: string, kdcPort: number, kpasswdPort: number): string {
  const conf = join(dir, 'etc', 'smb.conf');
  mkdirSync(join(dir, 'log'), { recursive: true });
  mkdirSync(join(dir, 'run'), { recursive: true });
  const lines = [
    `\tserver services = kdc`,
    `\tlog file = ${dir}/log/samba.log`,
    `\tpid directory = ${dir}/run`,
    `\tncalrpc dir = ${dir}/run/ncalrpc`,
    `\twinbindd socket directory = ${dir}/run/winbindd`,
    `\tntp signd socket directory = ${dir}/run/ntp_signd`,
    `\tkrb5 port = ${kdcPort}`,
    `\tkpasswd port = ${kpasswdPort}`,
    `\tdns port = 0`,
  ];
  const text = readFileSync(conf, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*(server services|log file)\s*=/.test(l))
    .join('\n')
    .replace('[global]\n', `[global]\n${lines.join('\n')}\n`);
  writeFileSync(conf, text);
  return conf;
}

/** One change for samba-admin.py (see the comment at its top). */
export type DirectoryOp = Record<string, unknown> & { op: string };

/** Applies directory changes through Samba's Python bindings; returns key version numbers of touched accounts. */
export function applyDirectoryOps(smbConf: string, ops: DirectoryOp[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      [ADMIN_SCRIPT, smbConf],
      { timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`samba-admin failed: ${stderr.slice(-2000)}`));
        const last = stdout.trim().split('\n').pop() ?? '{}';
        resolve((JSON.parse(last) as { kvno: Record<string, number> }).kvno);
      },
    );
    child.stdin?.end(JSON.stringify(ops));
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** A running `samba -i -M single` (the KDC), in its own process group. */
export interface SambaProcess {
  stop(): Promise<void>;
  readonly pid: number;
}

/** Starts samba in the foreground (own process group) and waits until the KDC accepts TCP on `kdcPort`. */
export async function startSamba(
  smbConf: string,
  dir: string,
  kdcPort: number,
  removeOnDeath?: string,
): Promise<SambaProcess> {
  const bin = requireBinary('samba', 'samba');
  const group = spawnGroup(bin, ['-i', '-M', 'single', '-s', smbConf], { removeOnDeath });
  try {
    await Promise.race([
      waitFor(() => listening(kdcPort), 30_000, `samba KDC on port ${kdcPort}`),
      group.exited,
    ]);
  } catch (e) {
    await group.stop();
    throw new Error(`samba did not start (${(e as Error).message}); log in ${dir}/log: ${group.output()}`);
  }
  return { stop: () => group.stop(), pid: group.pid };
}
