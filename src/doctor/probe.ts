/**
 * One HTTP request of a doctor check: through a provider's outbound route (proxy and CA
 * settings), never following redirects, with a timeout, and with the body read up to a limit.
 * @module
 */
import { request, type Dispatcher } from 'undici';

/** What came back from a probe. */
export interface ProbeAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body as text, cut at `maxBody` bytes. */
  readonly body: string;
  /** Local clock (epoch ms) when the request was sent and when the head arrived. */
  readonly sentAt: number;
  readonly receivedAt: number;
}

/** A probe that got no HTTP answer: a timeout, a refused connection, a TLS or proxy failure. */
export interface ProbeFailure {
  /** `ETIMEDOUT` for the doctor's own timeout, else the network error code (`ECONNREFUSED`…). */
  readonly code: string;
  readonly message: string;
}

/** Options of {@link probe}. */
export interface ProbeOptions {
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly method?: 'GET' | 'HEAD' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Largest body kept (default 256 KiB); the rest is discarded. */
  readonly maxBody?: number;
}

/** True for a {@link ProbeFailure}. */
export function isFailure(r: ProbeAnswer | ProbeFailure): r is ProbeFailure {
  return 'code' in r;
}

function headerMap(h: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Sends one request and never throws: network problems come back as a {@link ProbeFailure}. */
export async function probe(url: string, opts: ProbeOptions): Promise<ProbeAnswer | ProbeFailure> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const sentAt = Date.now();
  try {
    const res = await request(url, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      body: opts.body,
      dispatcher: opts.dispatcher,
      signal,
    });
    const receivedAt = Date.now();
    const max = opts.maxBody ?? 256 * 1024;
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of res.body) {
      if (n < max) chunks.push((c as Buffer).subarray(0, max - n));
      n += (c as Buffer).length;
    }
    return {
      status: res.statusCode,
      headers: headerMap(res.headers as Record<string, string | string[] | undefined>),
      body: Buffer.concat(chunks).toString('utf8'),
      sentAt,
      receivedAt,
    };
  } catch (e) {
    return describeFailure(e, signal.aborted, opts.timeoutMs);
  }
}

/** A network error as a code and message (the cause's code when undici wraps it). */
export function describeFailure(e: unknown, timedOut: boolean, timeoutMs: number): ProbeFailure {
  if (timedOut) return { code: 'ETIMEDOUT', message: `no answer within ${timeoutMs} ms` };
  const err = e as Error & { code?: unknown; cause?: { code?: unknown; message?: string } };
  const code =
    typeof err.cause?.code === 'string'
      ? err.cause.code
      : typeof err.code === 'string'
        ? err.code
        : 'ERR_NETWORK';
  const message = err.cause?.message ?? err.message ?? String(e);
  return { code, message };
}

/** `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9` or `HTTP 503` for evidence lines. */
export function answerSummary(r: ProbeAnswer | ProbeFailure): string {
  if (isFailure(r)) return r.message.includes(r.code) ? r.message : `${r.code}: ${r.message}`;
  return `HTTP ${r.status}`;
}

/** Parses a JSON object body; undefined when it is not one. */
export function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
