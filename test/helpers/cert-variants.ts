import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import type { CertFiles, TestPki } from './certs.js';

/** Key types {@link issueVariant} can generate, in OpenSSL terms. */
export type VariantKey = 'rsa:1024' | 'rsa:2048' | 'ec:P-224' | 'ec:P-256' | 'ec:P-384';

/** Options of a certificate issued with a chosen key and signature digest. */
export interface VariantOptions {
  readonly cn: string;
  /** Subject key (default `ec:P-256`). */
  readonly key?: VariantKey;
  /** Digest the issuer signs with (default `sha256`). `sha1` needs SECLEVEL=0 on the client. */
  readonly md?: 'sha1' | 'sha256' | 'sha384';
  /** Issue an intermediate CA certificate instead of a client certificate. */
  readonly ca?: boolean;
}

let n = 0;

/**
 * Issues a certificate signed by `issuer` with `openssl x509 -req`, for key-strength and
 * signature-algorithm tests (the `TestCa` helper always makes P-256/SHA-256 leaves). The files
 * live in the PKI's temp directory and are removed with it.
 */
export function issueVariant(pki: TestPki, issuer: CertFiles, opts: VariantOptions): CertFiles {
  const openssl = requireBinary('openssl', 'openssl');
  const run = (args: string[]) => execFileSync(openssl, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const base = join(pki.dir, `variant-${process.pid}-${++n}`);
  const key = opts.key ?? 'ec:P-256';
  const keyArgs = key.startsWith('rsa:')
    ? ['-newkey', key]
    : ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${key.slice(3)}`];
  const ext = opts.ca
    ? ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']
    : [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=clientAuth',
      ];
  writeFileSync(`${base}.ext`, `${ext.join('\n')}\n`);
  run([
    'req',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.csr`,
    '-subj',
    `/O=Gatehouse Tests/CN=${opts.cn}`,
  ]);
  run([
    'x509',
    '-req',
    '-in',
    `${base}.csr`,
    '-CA',
    issuer.certPath,
    '-CAkey',
    issuer.keyPath,
    '-set_serial',
    String(0x5000 + n),
    '-days',
    '2',
    `-${opts.md ?? 'sha256'}`,
    '-extfile',
    `${base}.ext`,
    '-out',
    `${base}.crt`,
  ]);
  return {
    cert: readFileSync(`${base}.crt`, 'utf8'),
    key: readFileSync(`${base}.key`, 'utf8'),
    certPath: `${base}.crt`,
    keyPath: `${base}.key`,
  };
}
