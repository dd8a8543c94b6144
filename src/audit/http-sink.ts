import { hostname } from 'node:os';
import { SinkWriteError, type Transport } from './outbox.js';

/** Body formats of the HTTP batch sink. */
export type HttpFormat = 'jsonl' | 'splunk_hec' | 'elastic_bulk';

/** Options of an {@link HttpTransport}. */
export interface HttpOptions {
  readonly url: string;
  readonly format: HttpFormat;
  readonly headers: Readonly<Record<string, string>>;
  readonly index?: string | undefined;
  readonly timeoutMs: number;
}

const TIME = /^\{"time":"([^"]+)"/;

/**
 * The request body for a batch of audit lines (each a JSON object ending with `\n`), embedded
 * as is, never re-serialised:
 * - `jsonl`: the lines (`application/x-ndjson`);
 * - `splunk_hec`: one HEC envelope per event, `{"time":epoch,"host","source":"gatehouse",
 *   "sourcetype":"gatehouse:audit","index"?,"event":LINE}`, concatenated;
 * - `elastic_bulk`: `{"create":{"_index"?}}` then the line, per event (`_bulk` API).
 */
export function batchBody(lines: readonly string[], format: HttpFormat, index?: string): string {
  if (format === 'jsonl') return lines.join('');
  let out = '';
  if (format === 'elastic_bulk') {
    const action =
      index === undefined ? '{"create":{}}\n' : `{"create":{"_index":${JSON.stringify(index)}}}\n`;
    for (const l of lines) out += action + l;
    return out;
  }
  const host = JSON.stringify(hostname());
  const idx = index === undefined ? '' : `,"index":${JSON.stringify(index)}`;
  for (const l of lines) {
    const line = l.endsWith('\n') ? l.slice(0, -1) : l;
    const t = TIME.exec(line)?.[1];
    const epoch = t === undefined ? Date.now() / 1000 : Date.parse(t) / 1000;
    out += `{"time":${epoch},"host":${host},"source":"gatehouse","sourcetype":"gatehouse:audit"${idx},"event":${line}}\n`;
  }
  return out;
}

/** True for statuses worth retrying: timeouts, rate limits, server errors. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Audit lines POSTed in batches to a collector. 2xx is success (for `elastic_bulk`, only when
 * the answer has no `"errors":true`); 408, 429, 5xx and network errors are retried; other
 * answers reject the batch for good (counted as dropped).
 */
export class HttpTransport implements Transport {
  readonly #o: HttpOptions;
  readonly #headers: Record<string, string>;

  constructor(opts: HttpOptions) {
    this.#o = opts;
    const type = opts.format === 'splunk_hec' ? 'application/json' : 'application/x-ndjson';
    this.#headers = { 'content-type': type, ...opts.headers };
  }

  async send(lines: readonly string[]): Promise<void> {
    const o = this.#o;
    let res: Response;
    try {
      res = await fetch(o.url, {
        method: 'POST',
        headers: this.#headers,
        body: batchBody(lines, o.format, o.index),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const code = cause?.code ?? ((e as Error).name === 'TimeoutError' ? 'ETIMEDOUT' : 'ENETWORK');
      throw new SinkWriteError(`audit collector ${o.url}: ${cause?.message ?? (e as Error).message}`, code);
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) {
      if (o.format === 'elastic_bulk' && /"errors"\s*:\s*true/.test(text))
        throw new SinkWriteError(`audit collector ${o.url}: bulk items rejected`, 'BULK_ITEM_ERRORS', true);
      return;
    }
    throw new SinkWriteError(
      `audit collector ${o.url}: HTTP ${res.status}`,
      `HTTP_${res.status}`,
      !retryable(res.status),
    );
  }

  async close(): Promise<void> {}
}
