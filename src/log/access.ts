import type { DestinationStream } from 'pino';
import { isoNow, jsonString as q } from './json.js';

/** One access-log line's fields. */
export interface AccessLine {
  /** A generated UUID or a validated `X-Request-Id` (no quote or backslash): written as is. */
  readonly reqId: string;
  readonly route: string | undefined;
  readonly method: string;
  /** Validated Host (reg-name or IP literal) or empty: written as is. */
  readonly host: string;
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  /** Whole microseconds; written as milliseconds with three decimals. */
  readonly durationUs: number;
  readonly upstreamUs: number | undefined;
  readonly client: string;
  readonly user: string | undefined;
  /** A catalogue code: written as is. */
  readonly error: string | undefined;
}

/** `1234` µs → `1.234` (ms): integer formatting only, no float-to-string per line. */
function ms(us: number): string {
  const frac = us % 1000;
  return `${(us - frac) / 1000}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
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
    let line = `{"level":"info","time":"${isoNow()}","service":"gatehouse","req_id":"${l.reqId}"`;
    if (l.route !== undefined) line += `,"route":${q(l.route)}`;
    line += `,"method":${q(l.method)},"host":"${l.host}","path":${q(l.path)},"status":${l.status},"bytes":${l.bytes},"duration_ms":${ms(l.durationUs)}`;
    if (l.upstreamUs !== undefined) line += `,"upstream_ms":${ms(l.upstreamUs)}`;
    line += `,"client":${q(l.client)}`;
    if (l.user !== undefined) line += `,"user":${q(l.user)}`;
    if (l.error !== undefined) line += `,"error":"${l.error}"`;
    this.dest.write(`${line},"msg":"request"}\n`);
  }
}
