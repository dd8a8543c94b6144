import type { ConnectionOptions } from 'node:tls';

/** Address, TLS options and handshake timeouts of an upstream, for a dedicated connection. */
export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: ConnectionOptions | undefined;
  readonly connectTimeout: number;
  readonly headersTimeout: number;
}
