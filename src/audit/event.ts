import type { TraceEntry } from '../pipeline/decision.js';

/**
 * One audit event: exactly one per request decision (N requests in, N events out), plus
 * events for login/logout and other security-relevant happenings. Never carries a credential.
 */
export interface AuditEvent {
  readonly time: string;
  /** `request` for proxied/answered requests; `login`, `logout`, `session.*`… for others. */
  readonly type: string;
  readonly request_id: string;
  /** W3C trace id of the request when `tracing:` is configured (joins the audit line to its trace). */
  readonly trace_id?: string | undefined;
  readonly route?: string | undefined;
  readonly method?: string | undefined;
  /** Normalised path (never the query string). */
  readonly path?: string | undefined;
  readonly host?: string | undefined;
  readonly client_ip?: string | undefined;
  readonly provider?: string | undefined;
  readonly subject?: string | undefined;
  readonly client_id?: string | undefined;
  /** Tenant of the identity (Entra ID `tid`…). */
  readonly tenant?: string | undefined;
  /** `user` or `client` (machine). */
  readonly token_kind?: 'user' | 'client' | undefined;
  /** How the identity was verified: jwt, introspection, session, mtls, apikey. */
  readonly auth_method?: string | undefined;
  /** Token `jti` or a hash prefix: never the token. */
  readonly credential_id?: string | undefined;
  readonly decision: 'allow' | 'deny' | 'error';
  readonly reasons: readonly string[];
  readonly rule?: string | undefined;
  readonly status: number;
  readonly error?: string | undefined;
  /** Operator-facing error detail (JWT-shaped text redacted). Never sent to the client. */
  readonly detail?: string | undefined;
  readonly upstream_status?: number | undefined;
  /** Whole request, accept to last byte (or to the audit record), in ms. */
  readonly latency_ms: number;
  /**
   * Time with the upstream (dispatch to the end of its response), in ms; absent when not
   * forwarded. Time spent in Gatehouse: `latency_ms - upstream_ms`.
   */
  readonly upstream_ms?: number | undefined;
  /**
   * Names (as sent) of request headers removed because an upstream would act on them: forged
   * identity, path/method overrides, forwarding and client-certificate claims.
   */
  readonly stripped_headers?: readonly string[] | undefined;
  /** Names of Gatehouse's own cookies an upstream tried to set; those `Set-Cookie` lines were dropped. */
  readonly dropped_cookies?: readonly string[] | undefined;
  /** Full decision trace, at audit level `debug` only. */
  readonly trace?: readonly TraceEntry[] | undefined;
  readonly [extra: string]: unknown;
}
