/**
 * The contract between the request path and distributed tracing (src/tracing). A request
 * carries a {@link RequestTrace} only when tracing is configured; every hook on the request
 * path is one `ctx.tracing !== undefined` check, so an unconfigured gateway pays nothing else.
 */
import type { Principal } from './principal.js';
import type { GatehouseError } from '../errors/index.js';

/** A span of an outgoing call made on behalf of a request (JWKS fetch, introspection). */
export interface ChildSpan {
  /** Ends the span; `error` (a short message) sets its status to ERROR. */
  end(error?: string): void;
}

/** The spans of one request, recorded cheaply and exported after the request ends. */
export interface RequestTrace {
  /** 32 lower-case hex digits (W3C trace-id); also written to the audit event. */
  readonly traceId: string;
  /** Opens the `authn` span (once; later calls are ignored). */
  authnStart(): void;
  /** Closes the `authn` span: the principal found, or none. */
  authnEnd(principal: Principal | undefined): void;
  /** Records the `authz` span, from `start` (performance.now()) to now. */
  authz(start: number, allow: boolean, rule: string | undefined, reason: string | undefined): void;
  /** A client span under the open stage span (or the request span), e.g. a JWKS fetch. */
  child(name: string, attributes: Readonly<Record<string, string | number | boolean>>): ChildSpan;
  /**
   * Opens the `upstream` span and sets the upstream request's `traceparent` (and `tracestate`)
   * in `headers` (flat `[name, value, …]`), replacing the client's.
   */
  upstream(headers: string[], target: string): void;
  /**
   * Ends the request: closes every open span (ERROR with the error's code when `err` is set)
   * and queues the spans for export. Called once, when the request is recorded.
   */
  end(status: number, err: GatehouseError | undefined): void;
}

/**
 * The trace of the request whose stage is running synchronously right now (set around each
 * authenticator call), so an IdP call started there becomes its child span. Undefined outside.
 */
export const ambient: { trace: RequestTrace | undefined } = { trace: undefined };

/** A child span of the ambient request trace, or undefined when none is running. */
export function ambientChild(
  name: string,
  attributes: Readonly<Record<string, string | number | boolean>>,
): ChildSpan | undefined {
  return ambient.trace?.child(name, attributes);
}
