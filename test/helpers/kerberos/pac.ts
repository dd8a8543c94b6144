import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./pac-groups.py', import.meta.url));

/** What the PAC of a request tells a Windows-authentication app about its user. */
export interface PacIdentity {
  readonly account: string;
  readonly domain: string;
  /** Group names (sAMAccountName) of the PAC's group RIDs, e.g. `Domain Users`, `payroll-admins`. */
  readonly groups: readonly string[];
}

/**
 * Decodes the PAC among the stand-in's GSS name attributes (`StandinWhoami.attrs`, attribute
 * `urn:mspac:`) with Samba's NDR bindings and names its groups from the domain at `smbConf`.
 */
export function pacIdentity(smbConf: string, attrs: unknown): Promise<PacIdentity> {
  const pac = (attrs as { attributes?: Record<string, { values?: Array<{ raw?: string }> }> } | null)
    ?.attributes?.['urn:mspac:']?.values?.[0]?.raw;
  if (typeof pac !== 'string') return Promise.reject(new Error('no PAC (urn:mspac:) in the name attributes'));
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      [SCRIPT, smbConf],
      { timeout: 60_000 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`pac-groups: ${stderr.slice(-1000)}`))
          : resolve(JSON.parse(stdout) as PacIdentity),
    );
    child.stdin?.end(pac);
  });
}
