import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { freePort, waitFor } from './ports.js';
import { spawnGroup } from './kerberos/process-group.js';

const MODULES = '/usr/lib/apache2/modules';

/** What the stand-in's page returns for an authenticated request. */
export interface StandinWhoami {
  /** The authenticated principal, e.g. `alice@CORP.TEST`. */
  user: string;
  /** `Negotiate` when this request carried an Authorization header, '' when the connection was already authenticated. */
  auth_header: string;
  /** The client port of the connection (which upstream connection carried the request). */
  remote_port: string;
  /** GSS name attributes of the user (the PAC, with its groups as SIDs), or null when not exposed. */
  attrs: unknown;
  path: string;
}

/** A Negotiate-only web server with Windows-authentication semantics (Apache + mod_auth_gssapi). */
export interface IisStandin {
  readonly port: number;
  /** Apache's parent process (its workers are its children). */
  readonly pid: number;
  /** `http://127.0.0.1:PORT` — the upstream URL; the SPN is HTTP/iis.corp.test. */
  readonly url: string;
  readonly dir: string;
  /** Apache's error log so far (mod_auth_gssapi explains refusals there). */
  errorLog(): string;
  close(): Promise<void>;
}

/** Options of {@link startIisStandin}. */
export interface IisStandinOptions {
  /** Keytab with HTTP/iis.corp.test (AdDomain.iisKeytab). */
  keytab: string;
  /** krb5.conf of the domain (clock skew, realm). */
  krb5Conf: string;
  /** Bind authentication to the connection like IIS does (default true). */
  connectionBound?: boolean;
  /** Pin Apache to these CPUs (`taskset -c`), e.g. for benchmarks. */
  cpu?: number | string;
}

function apacheConf(dir: string, port: number, keytab: string, connectionBound: boolean): string {
  const asRoot = process.getuid?.() === 0;
  return `ServerRoot ${dir}
ServerName iis.corp.test
Listen 127.0.0.1:${port}
PidFile ${dir}/run/httpd.pid
Mutex file:${dir}/run
DefaultRuntimeDir ${dir}/run
ErrorLog ${dir}/logs/error.log
LogLevel warn auth_gssapi:info
${asRoot ? 'User www-data\nGroup www-data' : ''}
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule auth_gssapi_module ${MODULES}/mod_auth_gssapi.so
LoadModule include_module ${MODULES}/mod_include.so
LoadModule mime_module ${MODULES}/mod_mime.so
LoadModule setenvif_module ${MODULES}/mod_setenvif.so
LoadModule alias_module ${MODULES}/mod_alias.so
StartServers 1
MinSpareThreads 8
MaxSpareThreads 64
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
TypesConfig /dev/null
DocumentRoot ${dir}/www
Alias /static.txt ${dir}/www/static.txt
AliasMatch ^/ ${dir}/www/whoami.json
SetEnvIf Authorization "^Negotiate " GH_AUTH_HEADER=Negotiate
<Directory ${dir}/www>
  Options +IncludesNOEXEC
  AddOutputFilter INCLUDES .json
  AddType application/json .json
  AuthType GSSAPI
  AuthName "Windows authentication"
  GssapiCredStore keytab:${keytab}
  GssapiAllowedMech krb5
  GssapiBasicAuth Off
  GssapiConnectionBound ${connectionBound ? 'On' : 'Off'}
  GssapiNameAttributes json
  Require valid-user
</Directory>
`;
}

// The page: one JSON object built by server-side includes (no process per request).
const WHOAMI = `{"user":"<!--#echo encoding="none" var="REMOTE_USER" -->","auth_header":"<!--#if expr="-n v('GH_AUTH_HEADER')" -->Negotiate<!--#endif -->","remote_port":"<!--#echo encoding="none" var="REMOTE_PORT" -->","path":"<!--#echo encoding="none" var="DOCUMENT_URI" -->","attrs":<!--#if expr="-n v('GSS_NAME_ATTRS_JSON')" --><!--#echo encoding="none" var="GSS_NAME_ATTRS_JSON" --><!--#else -->null<!--#endif -->}
`;

/** True once Apache answers a plain request with its 401 Negotiate challenge. */
function challenges(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.setTimeout(2000, () => (s.destroy(), resolve(false)));
    s.once('connect', () => s.write('GET / HTTP/1.1\r\nHost: iis.corp.test\r\nConnection: close\r\n\r\n'));
    s.on('data', (d) => (got += String(d)));
    s.once('close', () => resolve(got.startsWith('HTTP/1.1 401')));
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts Apache with mod_auth_gssapi on a free loopback port as an IIS stand-in: Negotiate (krb5)
 * only, no Basic, authentication bound to the connection (IIS-like), `Require valid-user`. Every
 * path under / serves `whoami.json` ({@link StandinWhoami}) except `/static.txt` (`ok`, fixed length,
 * for benchmarks; also behind authentication); unauthenticated requests get
 * 401 `WWW-Authenticate: Negotiate`. Runs in its own process group (setsid); `close` stops it.
 */
export async function startIisStandin(opts: IisStandinOptions): Promise<IisStandin> {
  const bin = requireBinary('apache2', 'apache2');
  if (!existsSync(`${MODULES}/mod_auth_gssapi.so`))
    throw new Error(
      'mod_auth_gssapi is required by this test: install it with "apt-get install -y libapache2-mod-auth-gssapi" (or run bash scripts/test-deps.sh)',
    );
  const dir = mkdtempSync(join(tmpdir(), 'gh-iis-'));
  chmodSync(dir, 0o755);
  for (const d of ['run', 'logs', 'www']) mkdirSync(join(dir, d));
  const keytab = join(dir, 'iis.keytab');
  copyFileSync(opts.keytab, keytab);
  chmodSync(keytab, 0o644);
  writeFileSync(join(dir, 'www', 'whoami.json'), WHOAMI);
  writeFileSync(join(dir, 'www', 'static.txt'), 'ok\n');
  const port = await freePort();
  writeFileSync(join(dir, 'httpd.conf'), apacheConf(dir, port, keytab, opts.connectionBound ?? true));
  const args = ['-d', dir, '-f', join(dir, 'httpd.conf'), '-DFOREGROUND'];
  const pinned = opts.cpu !== undefined;
  const group = spawnGroup(pinned ? 'taskset' : bin, pinned ? ['-c', String(opts.cpu), bin, ...args] : args, {
    env: { ...process.env, KRB5_CONFIG: opts.krb5Conf, APACHE_RUN_DIR: join(dir, 'run') },
    removeOnDeath: dir,
  });
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'logs', 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await Promise.race([waitFor(() => challenges(port), 20_000, `apache2 on port ${port}`), group.exited]);
  } catch (e) {
    await group.stop(5000);
    throw new Error(`IIS stand-in did not start: ${(e as Error).message} ${group.output()} ${errorLog()}`);
  }
  return {
    port,
    pid: group.pid,
    url: `http://127.0.0.1:${port}`,
    dir,
    errorLog,
    close: async () => {
      await group.stop(5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
