import type { ConnectionOptions } from 'node:tls';

/** How one upstream's connections are made and kept. Built once at config load. */
export interface H1PoolOptions {
  readonly host: string;
  readonly port: number;
  /** TLS options for https upstreams (CA, client certificate, server name, minimum version). */
  readonly tls?: ConnectionOptions | undefined;
  /** Upper bound of open connections (connecting, busy and idle). */
  readonly maxConnections: number;
  /** Milliseconds to establish TCP (and TLS). */
  readonly connectTimeout: number;
  /** Milliseconds from the request written to the response head read. */
  readonly headersTimeout: number;
  /** Longest silence while the response body streams. */
  readonly bodyTimeout: number;
  /** An idle keep-alive connection is closed after this many milliseconds. */
  readonly keepAliveTimeout: number;
  /** Requests that may wait for a connection when all are busy (0: none waits; default no bound). */
  readonly maxQueue?: number | undefined;
  /** Longest wait for a connection in milliseconds (0, the default: no limit). */
  readonly queueTimeout?: number | undefined;
  /** Authenticates every new connection with its first request (e.g. Kerberos `Negotiate`). */
  readonly authenticate?: ConnectionAuthenticator | undefined;
}

/** Receives the response; every callback runs at most once except `onData`. */
export interface H1Handler {
  onHeaders(status: number, statusText: string, raw: string[]): void;
  /**
   * Returns false to pause reading until {@link H1Exchange.resume}. `last`: the chunk completes
   * the body and `onComplete` follows (so the response can be ended with it in one write).
   */
  onData(chunk: Buffer, last: boolean): boolean;
  onComplete(): void;
  onError(err: Error): void;
}

/** A request in flight. */
export interface H1Exchange {
  /** Stops the exchange (the client went away); the connection is closed, nothing more is reported. */
  abort(): void;
  /** Resumes reading after `onData` returned false. */
  resume(): void;
}

/**
 * Called once per new connection, before its first request is written: resolves the header
 * fields that authenticate the connection (sent with that request only) and the handler that
 * receives that request's response (e.g. one that verifies the server's mutual-authentication
 * token). A rejection fails the request and closes the connection; nothing is sent.
 */
export type ConnectionAuthenticator = (
  exchange: H1Exchange,
  handler: H1Handler,
) => Promise<{ readonly headers: readonly string[]; readonly handler: H1Handler }>;
