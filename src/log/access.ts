import type { DestinationStream } from 'pino';

/** One access-log line's fields. */
export interface AccessLine {
  readonly reqId: string;
  readonly route: string | undefined;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly upstreamMs: number | undefined;
  readonly client: string;
  readonly user: string | undefined;
  readonly error: string | undefined;
}

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON string literal; printable ASCII without `"` or `\` (almost every value here) is copied as is. */
function q(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/**
 * The access log: one JSON line per request, in the same shape as pino's lines (`level`,
 * `time`, `service`, `msg`) and written to the same buffered destination, but built directly:
 * no serializer, redaction or child-logger machinery per request. It carries no headers, so no
 * credential can reach it.
 */
export class AccessLog {
  constructor(private readonly dest: DestinationStream) {}

  write(l: AccessLine): void {
    let line = `{"level":"info","time":"${new Date().toISOString()}","service":"gatehouse","req_id":${q(l.reqId)}`;
    if (l.route !== undefined) line += `,"route":${q(l.route)}`;
    line += `,"method":${q(l.method)},"host":${q(l.host)},"path":${q(l.path)},"status":${l.status},"bytes":${l.bytes},"duration_ms":${l.durationMs}`;
    if (l.upstreamMs !== undefined) line += `,"upstream_ms":${l.upstreamMs}`;
    line += `,"client":${q(l.client)}`;
    if (l.user !== undefined) line += `,"user":${q(l.user)}`;
    if (l.error !== undefined) line += `,"error":${q(l.error)}`;
    this.dest.write(`${line},"msg":"request"}\n`);
  }
}
