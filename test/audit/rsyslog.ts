import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from '../helpers/binaries.js';
import { freePort, waitFor } from '../helpers/ports.js';

/** TLS files of an rsyslog listener (RFC 5425 through the gtls driver, `rsyslog-gnutls`). */
export interface RsyslogTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** A real rsyslogd (Debian `rsyslog`) in the foreground, its own config in a temp dir. */
export interface Rsyslog {
  readonly port: number;
  /** The MSG part of every message received, one per line (`%msg%`). */
  readonly out: string;
  /** Facility, severity, APP-NAME, MSGID and HOSTNAME of every message. */
  readonly meta: string;
  messages(): string[];
  stop(): Promise<void>;
  /** Starts again on the same port. */
  start(): Promise<void>;
  cleanup(): Promise<void>;
}

function config(dir: string, port: number, tls: RsyslogTls | undefined): string {
  const global = tls
    ? `global(workDirectory="${dir}" maxMessageSize="64k" DefaultNetstreamDriverCAFile="${tls.ca}" DefaultNetstreamDriverCertFile="${tls.cert}" DefaultNetstreamDriverKeyFile="${tls.key}")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")`
    : `global(workDirectory="${dir}" maxMessageSize="64k")
module(load="imtcp")`;
  return `${global}
input(type="imtcp" port="${port}" address="127.0.0.1")
template(name="raw" type="string" string="%msg%\\n")
template(name="meta" type="string" string="%syslogfacility-text% %syslogseverity-text% %app-name% %msgid% %hostname%\\n")
*.* action(type="omfile" file="${dir}/out.log" template="raw")
*.* action(type="omfile" file="${dir}/meta.log" template="meta")
`;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Starts rsyslogd listening on 127.0.0.1 (an ephemeral port), writing to files in a temp dir. */
export async function startRsyslog(tls?: RsyslogTls): Promise<Rsyslog> {
  const bin = requireBinary('rsyslogd', 'rsyslog');
  if (
    tls &&
    !existsSync('/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so') &&
    !existsSync('/usr/lib/rsyslog/lmnsd_gtls.so')
  )
    throw new Error(
      'rsyslog TLS needs the gtls driver: apt-get install -y rsyslog-gnutls (or run bash .ci/run)',
    );
  const dir = mkdtempSync(join(tmpdir(), 'gh-rsyslog-'));
  const port = await freePort();
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(conf, config(dir, port, tls));
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async () => {
    const c = spawn(bin, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child = c;
    await waitFor(() => listening(port), 10_000, `rsyslogd on ${port}: ${stderr}`);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  const out = join(dir, 'out.log');
  return {
    port,
    out,
    meta: join(dir, 'meta.log'),
    messages: () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').slice(0, -1) : []),
    stop,
    start,
    cleanup: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
