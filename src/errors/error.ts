import type { ErrorCode } from './catalogue.js';
import { catalogue } from './catalogue.js';

/**
 * A refusal explained to the client: a stable reason code (`group_required`, `session_expired`…,
 * see docs/pages.md) and plain words that name only what the route's rules name — never a token,
 * a secret or a claim the rules do not test.
 */
export interface PublicReason {
  readonly code: string;
  readonly text: string;
  /** Who the request is authenticated as (e-mail, name or id), shown back to that user only. */
  readonly user?: string | undefined;
}

/**
 * The one error type of Gatehouse. Callers `switch` on {@link GatehouseError.code}, never on
 * the message. `status` and the safe `message` come from the catalogue; `detail` is for logs,
 * `explain` and the audit trail only and is never sent to a client.
 */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Operator-facing detail (logs, audit, explain). Never rendered to the client. */
  readonly detail: string | undefined;
  /** Extra response headers the error must carry (e.g. WWW-Authenticate, Retry-After). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Machine-readable reason codes for decisions (audit, metrics). */
  readonly reasons: readonly string[];
  /** The client-safe explanation of a refusal (the page and the JSON `reason`), when known. */
  readonly publicReason: PublicReason | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    opts: {
      headers?: Record<string, string>;
      reasons?: readonly string[];
      cause?: unknown;
      status?: number;
      publicReason?: PublicReason;
    } = {},
  ) {
    const entry = catalogue[code];
    super(entry.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.status = opts.status ?? entry.status;
    this.detail = detail;
    this.headers = opts.headers;
    this.reasons = opts.reasons ?? [code];
    this.publicReason = opts.publicReason;
  }
}

/** True when `e` is a {@link GatehouseError}, optionally with the given code. */
export function isGatehouseError(e: unknown, code?: ErrorCode): e is GatehouseError {
  return e instanceof GatehouseError && (code === undefined || e.code === code);
}
