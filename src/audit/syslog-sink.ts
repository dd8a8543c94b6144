import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { hostname as osHostname } from 'node:os';
import { SinkWriteError, type Transport } from './outbox.js';

/** RFC 5424 §6.2.1 facility codes Gatehouse offers. */
const FACILITY: Readonly<Record<string, number>> = {
  user: 1,
  daemon: 3,
  auth: 4,
  authpriv: 10,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
};
/** Severity informational (6). */
const SEVERITY_INFO = 6;

/** Options of a {@link SyslogTransport}. */
export interface SyslogOptions {
  readonly host: string;
  readonly port: number;
  /** TLS (RFC 5425) options; undefined: plain TCP. */
  readonly tls?: ConnectionOptions | undefined;
  readonly facility: string;
  readonly appName: string;
  readonly hostname?: string | undefined;
  /** Connect timeout (ms). */
  readonly connectTimeoutMs?: number;
}

/**
 * One RFC 5424 message with RFC 6587 octet-counting framing (`LEN SP MSG`): PRI, version 1,
 * the event's own timestamp, HOSTNAME, APP-NAME, PROCID, MSGID `audit`, no structured data and
 * the JSON line as MSG, byte for byte (so `audit verify` can check what the server stored).
 */
export function syslogFrame(line: string, pri: number, host: string, app: string): string {
  const time = /^\{"time":"([^"]+)"/.exec(line)?.[1] ?? new Date().toISOString();
  const msg = `<${pri}>1 ${time} ${host} ${app} ${process.pid} audit - ${line}`;
  return `${Buffer.byteLength(msg)} ${msg}`;
}

/**
 * Audit lines to a syslog server over TCP, or TLS (RFC 5425), one persistent connection opened
 * on first use and again after any error. A batch counts as written once the socket took it.
 */
export class SyslogTransport implements Transport {
  readonly #o: SyslogOptions;
  readonly #pri: number;
  readonly #host: string;
  #socket: Socket | undefined;
  #connecting: Promise<Socket> | undefined;

  constructor(opts: SyslogOptions) {
    this.#o = opts;
    this.#pri = (FACILITY[opts.facility] ?? 10) * 8 + SEVERITY_INFO;
    this.#host = opts.hostname ?? (osHostname() || '-');
  }

  #connect(): Promise<Socket> {
    if (this.#socket !== undefined && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    if (this.#connecting) return this.#connecting;
    const o = this.#o;
    this.#connecting = new Promise<Socket>((resolve, reject) => {
      const s: Socket = o.tls
        ? tlsConnect({ ...o.tls, host: o.host, port: o.port })
        : netConnect({ host: o.host, port: o.port });
      const ready = o.tls ? 'secureConnect' : 'connect';
      const timer = setTimeout(
        () => s.destroy(new SinkWriteError(`syslog ${o.host}:${o.port}: connect timeout`, 'ETIMEDOUT')),
        o.connectTimeoutMs ?? 5000,
      );
      const fail = (e: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(new SinkWriteError(`syslog ${o.host}:${o.port}: ${e.message}`, e.code ?? 'ECONNREFUSED'));
      };
      s.once('error', fail);
      s.once(ready, () => {
        clearTimeout(timer);
        s.removeListener('error', fail);
        s.on('error', () => s.destroy());
        s.on('close', () => {
          if (this.#socket === s) this.#socket = undefined;
        });
        // The server sends nothing; reading keeps a half-close from going unnoticed.
        s.on('data', () => undefined);
        s.on('end', () => s.destroy());
        s.setKeepAlive(true, 30_000);
        this.#socket = s;
        resolve(s);
      });
    }).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async send(lines: readonly string[]): Promise<void> {
    const s = await this.#connect();
    let out = '';
    for (const l of lines)
      out += syslogFrame(l.endsWith('\n') ? l.slice(0, -1) : l, this.#pri, this.#host, this.#o.appName);
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new SinkWriteError('syslog connection closed', 'ECONNRESET'));
      s.once('close', onClose);
      s.write(out, (e) => {
        s.removeListener('close', onClose);
        if (e)
          reject(
            new SinkWriteError(`syslog write: ${e.message}`, (e as NodeJS.ErrnoException).code ?? 'EPIPE'),
          );
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    const s = this.#socket;
    this.#socket = undefined;
    if (s === undefined || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => s.destroy(), 1000).unref();
    });
  }
}
