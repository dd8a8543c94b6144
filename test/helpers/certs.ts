import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';

/** A PEM certificate and key on disk (paths) and in memory. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/** A throw-away certificate authority that issues leaf certificates with `openssl ca`. */
export interface TestCa extends CertFiles {
  readonly name: string;
  /**
   * Issues a leaf certificate. `san` entries use OpenSSL syntax (`DNS:localhost`,
   * `IP:127.0.0.1`, `URI:spiffe://example.org/agent`, `email:a@example.com`).
   * `expired: true` makes it valid only in January 2020.
   */
  issue(opts: {
    cn: string;
    san?: string[];
    usage?: 'server' | 'client' | 'both';
    expired?: boolean;
    o?: string;
  }): CertFiles;
}

/** A temp directory holding any number of CAs; `cleanup()` removes it. */
export interface TestPki {
  readonly dir: string;
  createCa(name: string): TestCa;
  cleanup(): void;
}

/** Creates a PKI workspace. Needs the `openssl` binary (fails with an install hint if missing). */
export function createPki(): TestPki {
  const openssl = requireBinary('openssl', 'openssl');
  const dir = mkdtempSync(join(tmpdir(), 'gh-pki-'));
  const run = (args: string[]): void => {
    execFileSync(openssl, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  let n = 0;
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

  const createCa = (name: string): TestCa => {
    const caDir = join(dir, name);
    mkdirSync(join(caDir, 'newcerts'), { recursive: true });
    writeFileSync(join(caDir, 'index.txt'), '');
    writeFileSync(join(caDir, 'serial'), '1000\n');
    const certPath = join(caDir, 'ca.crt');
    const keyPath = join(caDir, 'ca.key');
    run([
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-subj',
      `/O=Gatehouse Tests/CN=${name}`,
      '-days',
      '3',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const cnf = join(caDir, 'ca.cnf');
    writeFileSync(
      cnf,
      `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = ${caDir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
organizationName = optional
commonName = supplied
`,
    );
    const ca: TestCa = {
      name,
      cert: readFileSync(certPath, 'utf8'),
      key: readFileSync(keyPath, 'utf8'),
      certPath,
      keyPath,
      issue(opts) {
        const base = join(caDir, `leaf-${++n}`);
        const usage = opts.usage ?? 'server';
        const eku =
          usage === 'both' ? 'serverAuth,clientAuth' : usage === 'client' ? 'clientAuth' : 'serverAuth';
        const ext = [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          `extendedKeyUsage=${eku}`,
          ...(opts.san && opts.san.length > 0 ? [`subjectAltName=${opts.san.join(',')}`] : []),
        ];
        writeFileSync(`${base}.ext`, `[ leaf ]\n${ext.join('\n')}\n`);
        const subj = `${opts.o === undefined ? '' : `/O=${opts.o}`}/CN=${opts.cn}`;
        run(['req', '-new', ...ecKey, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subj]);
        const dates = opts.expired
          ? ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']
          : [
              '-startdate',
              new Date(Date.now() - 3_600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z',
              '-days',
              '2',
            ];
        run([
          'ca',
          '-batch',
          '-notext',
          '-config',
          cnf,
          '-cert',
          certPath,
          '-keyfile',
          keyPath,
          '-in',
          `${base}.csr`,
          '-out',
          `${base}.crt`,
          '-extfile',
          `${base}.ext`,
          '-extensions',
          'leaf',
          ...dates,
        ]);
        return {
          cert: readFileSync(`${base}.crt`, 'utf8'),
          key: readFileSync(`${base}.key`, 'utf8'),
          certPath: `${base}.crt`,
          keyPath: `${base}.key`,
        };
      },
    };
    return ca;
  };
  return { dir, createCa, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
