import { randomFillSync } from 'node:crypto';
import { parseTraceParent } from '@opentelemetry/core';

/** A parsed, valid W3C `traceparent` (Trace Context Level 1 §3.2). */
export interface ParentContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * Parses a `traceparent` value with OpenTelemetry's W3C parser; undefined when it is absent or
 * invalid (the request then starts a new trace, never an error). Version `00` must be exactly
 * `00-<32 hex>-<16 hex>-<2 hex>`; a later version (not `ff`) is read by its version-00 prefix
 * (§4.3). Upper-case hex, all-zero ids and repeated headers (joined with `,`) are invalid.
 */
export function parseTraceparent(value: string | string[] | undefined): ParentContext | undefined {
  if (typeof value !== 'string') return undefined;
  const sc = parseTraceParent(value);
  if (sc === null) return undefined;
  return { traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & 1) === 1 };
}

/** `00-<trace-id>-<span-id>-<flags>`. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/**
 * Random trace and span ids drawn from one buffer filled by the CSPRNG in bulk (one
 * `randomFillSync` per 512 span ids), hex-encoded straight from it.
 */
export class IdSource {
  private readonly pool = Buffer.allocUnsafe(4096);
  private at = this.pool.length;

  private take(n: number): string {
    if (this.at + n > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const s = this.pool.toString('hex', this.at, this.at + n);
    this.at += n;
    return s;
  }

  /** 16 random bytes as 32 hex digits, never all zero. */
  traceId(): string {
    const id = this.take(16);
    return id === ZERO_TRACE ? this.traceId() : id;
  }

  /** 8 random bytes as 16 hex digits, never all zero. */
  spanId(): string {
    const id = this.take(8);
    return id === ZERO_SPAN ? this.spanId() : id;
  }
}

/**
 * True when a trace id falls within `ratio` (0..1), judged on its last 8 hex digits the way
 * OpenTelemetry's TraceIdRatioBased sampler does, so every hop using the same ratio agrees.
 */
export function sampledByRatio(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return parseInt(traceId.slice(24), 16) < ratio * 0x1_0000_0000;
}
