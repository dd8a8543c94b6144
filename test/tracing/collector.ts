import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeTraceRequest } from './otlp-proto.js';

/** One span as a collector received it (OTLP JSON), attributes flattened to plain values. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly status: { code?: number; message?: string };
  readonly attributes: Record<string, unknown>;
  readonly service: unknown;
  /** The resource's `process.pid` (one per Gatehouse process, so per cluster worker). */
  readonly pid: unknown;
}

/** A local OTLP/HTTP collector: decodes JSON export requests with JSON.parse, protobuf ones with {@link decodeTraceRequest}. */
export interface Collector {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Export requests received (with their headers). */
  readonly requests: { headers: Record<string, unknown> }[];
  /** Waits (up to `ms`) until `pred` holds over the spans received so far. */
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, ms?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

type Attr = { key: string; value: AnyValue };
const attrs = (list: Attr[] | undefined) =>
  Object.fromEntries((list ?? []).map((a) => [a.key, value(a.value)]));

/** Starts the collector on 127.0.0.1:0, answering 200 `{}` like the OpenTelemetry Collector. */
export async function startCollector(): Promise<Collector> {
  const spans: ReceivedSpan[] = [];
  const requests: { headers: Record<string, unknown> }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers });
      const body = Buffer.concat(chunks);
      const doc = (
        req.headers['content-type'] === 'application/x-protobuf'
          ? decodeTraceRequest(body)
          : JSON.parse(body.toString())
      ) as {
        resourceSpans: {
          resource?: { attributes?: Attr[] };
          scopeSpans: {
            spans: (Omit<ReceivedSpan, 'attributes' | 'service' | 'pid'> & { attributes?: Attr[] })[];
          }[];
        }[];
      };
      for (const rs of doc.resourceSpans) {
        const resource = attrs(rs.resource?.attributes);
        const service = resource['service.name'];
        const pid = resource['process.pid'];
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans)
            spans.push({
              ...s,
              parentSpanId: s.parentSpanId || undefined,
              attributes: attrs(s.attributes),
              service,
              pid,
            });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    requests,
    async waitFor(pred, ms = 20_000) {
      const until = Date.now() + ms;
      while (!pred(spans)) {
        if (Date.now() > until)
          throw new Error(`collector: condition not met; spans: ${JSON.stringify(spans.map((s) => s.name))}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return spans;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
