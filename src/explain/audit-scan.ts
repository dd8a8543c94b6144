import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { AuditEvent } from '../audit/event.js';
import { GatehouseError } from '../errors/index.js';

/** One event found in the audit trail, with where it was. */
export interface FoundEvent {
  readonly file: string;
  /** 1-based line number in the (decompressed) file. */
  readonly line: number;
  readonly event: AuditEvent;
}

const GZIP_MAGIC = [0x1f, 0x8b];

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === GZIP_MAGIC[0] && b[1] === GZIP_MAGIC[1];
  } finally {
    await fh.close();
  }
}

async function openInput(path: string): Promise<{ input: Readable; done(): void }> {
  let gz: boolean;
  try {
    gz = await isGzip(path);
  } catch (e) {
    throw new GatehouseError(
      'GH_EXPLAIN_AUDIT_UNREADABLE',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const file = createReadStream(path, { highWaterMark: 256 * 1024 });
  const input: Readable = gz ? file.pipe(createGunzip()) : file;
  if (gz) file.on('error', (e) => input.destroy(e));
  return { input, done: () => void (input.destroy(), file.destroy()) };
}

const NL = 10;

function newlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(NL, from); i !== -1 && i < to; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

/** Finds the lines of `buf` holding `needle`; `firstLine` is the number of its first line. */
function scan(
  buf: Buffer,
  needle: Buffer,
  firstLine: number,
  hit: (line: number, text: string) => void,
): void {
  let counted = 0;
  let line = firstLine;
  for (let i = buf.indexOf(needle); i !== -1;) {
    const start = buf.lastIndexOf(NL, i) + 1;
    let end = buf.indexOf(NL, i);
    if (end === -1) end = buf.length;
    line += newlines(buf, counted, start);
    counted = start;
    hit(line, buf.toString('utf8', start, end));
    i = buf.indexOf(needle, end);
  }
}

/**
 * Scans audit files (JSON lines, gzip-compressed rotated files detected by content) for events
 * carrying `requestId`, streaming each file in chunks: big files are never read whole, the id is
 * searched in the raw bytes and only the lines that contain it are decoded and parsed. Lines that are not JSON (a torn last line) are
 * skipped. Files are read in the order given; events come out in file order.
 */
export async function findAuditEvents(files: readonly string[], requestId: string): Promise<FoundEvent[]> {
  const needle = Buffer.from(`"request_id":${JSON.stringify(requestId)}`);
  const found: FoundEvent[] = [];
  for (const path of files) {
    const { input, done } = await openInput(path);
    const hit = (line: number, text: string) => {
      let ev: unknown;
      try {
        ev = JSON.parse(text);
      } catch {
        return;
      }
      if (ev !== null && typeof ev === 'object' && (ev as AuditEvent).request_id === requestId)
        found.push({ file: path, line, event: ev as AuditEvent });
    };
    let carry: Buffer = Buffer.alloc(0);
    let line = 1;
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
        const last = buf.lastIndexOf(NL);
        if (last === -1) {
          carry = buf;
          continue;
        }
        scan(buf.subarray(0, last + 1), needle, line, hit);
        line += newlines(buf, 0, last + 1);
        carry = Buffer.from(buf.subarray(last + 1));
      }
      if (carry.length > 0) scan(carry, needle, line, hit);
    } catch (e) {
      throw new GatehouseError(
        'GH_EXPLAIN_AUDIT_UNREADABLE',
        `cannot read ${path} (near line ${line}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    } finally {
      done();
    }
  }
  return found;
}
