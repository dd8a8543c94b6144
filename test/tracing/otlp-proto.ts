/**
 * A reader for the OTLP trace protobuf messages the collector in these tests receives
 * (opentelemetry-proto trace/v1, common/v1): just the fields the tests look at, into the same
 * shape as OTLP JSON (ids as lower-case hex), so one collector serves both encodings.
 */

type Field = { no: number; wire: number; value: bigint | Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[at++];
      if (b === undefined) throw new Error('protobuf: truncated varint');
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 1) {
      yield { no, wire, value: buf.subarray(at, at + 8) };
      at += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, value: buf.subarray(at, at + len) };
      at += len;
    } else if (wire === 5) {
      yield { no, wire, value: buf.subarray(at, at + 4) };
      at += 4;
    } else throw new Error(`protobuf: wire type ${wire}`);
  }
}

const str = (v: bigint | Buffer) => (v as Buffer).toString('utf8');

function anyValue(buf: Buffer): Record<string, unknown> {
  for (const f of fields(buf)) {
    if (f.no === 1) return { stringValue: str(f.value) };
    if (f.no === 2) return { boolValue: f.value === 1n };
    if (f.no === 3) return { intValue: Number(BigInt.asIntN(64, f.value as bigint)) };
    if (f.no === 4) return { doubleValue: (f.value as Buffer).readDoubleLE(0) };
    if (f.no === 5) {
      const values = [...fields(f.value as Buffer)]
        .filter((x) => x.no === 1)
        .map((x) => anyValue(x.value as Buffer));
      return { arrayValue: { values } };
    }
  }
  return {};
}

function keyValues(list: Field[]): { key: string; value: Record<string, unknown> }[] {
  return list.map((f) => {
    let key = '';
    let value: Record<string, unknown> = {};
    for (const g of fields(f.value as Buffer)) {
      if (g.no === 1) key = str(g.value);
      if (g.no === 2) value = anyValue(g.value as Buffer);
    }
    return { key, value };
  });
}

function span(buf: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = { status: {} };
  const attrs: Field[] = [];
  for (const f of fields(buf)) {
    if (f.no === 1) out.traceId = (f.value as Buffer).toString('hex');
    else if (f.no === 2) out.spanId = (f.value as Buffer).toString('hex');
    else if (f.no === 4) out.parentSpanId = (f.value as Buffer).toString('hex');
    else if (f.no === 5) out.name = str(f.value);
    else if (f.no === 6) out.kind = Number(f.value);
    else if (f.no === 9) attrs.push(f);
    else if (f.no === 15) {
      const status: Record<string, unknown> = {};
      for (const g of fields(f.value as Buffer)) {
        if (g.no === 2) status.message = str(g.value);
        if (g.no === 3) status.code = Number(g.value);
      }
      out.status = status;
    }
  }
  out.attributes = keyValues(attrs);
  return out;
}

/** An ExportTraceServiceRequest in its OTLP JSON shape. */
export function decodeTraceRequest(buf: Buffer): { resourceSpans: unknown[] } {
  const resourceSpans = [...fields(buf)]
    .filter((f) => f.no === 1)
    .map((rs) => {
      let resource = { attributes: [] as unknown[] };
      const scopeSpans: unknown[] = [];
      for (const f of fields(rs.value as Buffer)) {
        if (f.no === 1)
          resource = { attributes: keyValues([...fields(f.value as Buffer)].filter((g) => g.no === 1)) };
        if (f.no === 2)
          scopeSpans.push({
            spans: [...fields(f.value as Buffer)]
              .filter((g) => g.no === 2)
              .map((g) => span(g.value as Buffer)),
          });
      }
      return { resource, scopeSpans };
    });
  return { resourceSpans };
}
