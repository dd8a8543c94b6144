/** OTLP span kinds used by Gatehouse (the `@opentelemetry/api` SpanKind values). */
export const enum Kind {
  Internal = 0,
  Server = 1,
  Client = 2,
}

/** Attribute values Gatehouse records: scalars and string lists. */
export type AttrValue = string | number | boolean | readonly string[];

/**
 * One finished span as the request path records it: ids as hex strings, times as
 * `performance.now()` milliseconds, attributes set once. Turned into the SDK's ReadableSpan
 * shape only when exported ({@link ./export.ts}).
 */
export interface SpanRecord {
  readonly name: string;
  readonly kind: Kind;
  readonly traceId: string;
  readonly spanId: string;
  /** Parent span id; for the request span, the caller's (remote) span when the trace was continued. */
  readonly parentId: string | undefined;
  /** True when the parent is the remote caller (W3C traceparent). */
  readonly remoteParent: boolean;
  readonly start: number;
  readonly end: number;
  readonly attributes: Record<string, AttrValue>;
  /** Set: span status ERROR with this message (the gateway error code). */
  readonly error: string | undefined;
}

/** Where a finished request's spans go: the export queue. */
export interface SpanSink {
  add(spans: readonly SpanRecord[]): void;
}
