import { close, closeSync, fstat, mkdirSync, open, openSync, writeSync, type Stats } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SinkWriteError, type Transport } from './outbox.js';

/** Options of a {@link FileTransport}. */
export interface FileTransportOptions {
  /** How often the path is checked for rotation (ms); 0: only on `reopen()` and failed writes. */
  readonly reopenCheckMs: number;
  /** File mode when created. */
  readonly mode?: number;
}

/**
 * An append-only JSON-lines file. Opened synchronously at start with flag `a` (a bad path fails
 * at start; restarts append, never truncate), then written one batch per write.
 * Reopened — a new file at the configured path — on {@link reopen} (SIGUSR1) and when a timer
 * finds that the path no longer names the open file (renamed or removed by logrotate without
 * `copytruncate`, or on Windows), and after a failed write.
 */
export class FileTransport implements Transport {
  readonly #path: string;
  readonly #mode: number;
  #fd: number;
  #ino = 0;
  #dev = 0;
  #reopenWanted = false;
  readonly #timer: NodeJS.Timeout | undefined;
  #checking = false;
  /** Batch encoding buffer, reused. */
  #buf = Buffer.allocUnsafe(64 * 1024);
  /** Times the file was reopened (rotation seen). */
  reopened = 0;

  constructor(path: string, opts: FileTransportOptions) {
    this.#path = path;
    this.#mode = opts.mode ?? 0o640;
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'a', this.#mode);
    this.#timer =
      opts.reopenCheckMs > 0 ? setInterval(() => void this.#check(), opts.reopenCheckMs).unref() : undefined;
    void this.#identify();
  }

  /** Asks for a reopen before the next write (SIGUSR1, `logrotate` postrotate). */
  reopen(): void {
    this.#reopenWanted = true;
  }

  async #identify(): Promise<void> {
    try {
      const s = await fstatAsync(this.#fd);
      this.#ino = s.ino;
      this.#dev = s.dev;
    } catch {
      // Seen again at the next check or write.
    }
  }

  async #check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      const s = await stat(this.#path);
      if (this.#ino !== 0 && (s.ino !== this.#ino || s.dev !== this.#dev)) this.#reopenWanted = true;
    } catch {
      this.#reopenWanted = true;
    } finally {
      this.#checking = false;
    }
  }

  async #reopenNow(): Promise<void> {
    this.#reopenWanted = false;
    await mkdir(dirname(this.#path), { recursive: true });
    const next = await openAsync(this.#path, 'a', this.#mode);
    const old = this.#fd;
    this.#fd = next;
    closeQuietly(old);
    await this.#identify();
    this.reopened++;
  }

  /**
   * One synchronous `write(2)` per batch from the event loop, as the log file does (batches form
   * while requests run: one per event-loop turn at most): no thread-pool hop, and no backlog of
   * lines held in memory behind slow asynchronous writes. Never per request.
   */
  async send(lines: readonly string[]): Promise<void> {
    try {
      if (this.#reopenWanted) await this.#reopenNow();
      let chars = 0;
      for (const line of lines) chars += line.length;
      // A UTF-16 code unit takes at most 3 bytes in UTF-8. Usually the batch is encoded straight
      // into a reused buffer (no joined batch string, no new buffer per batch); a larger one
      // (a backlog) the old way. Either way it leaves in one write.
      if (chars * 3 <= this.#buf.length) {
        let used = 0;
        for (const line of lines) used += this.#buf.write(line, used, 'utf8');
        this.#writeAll(this.#buf, used);
      } else {
        const buf = Buffer.from(lines.join(''), 'utf8');
        this.#writeAll(buf, buf.length);
      }
    } catch (e) {
      this.#reopenWanted = true;
      const err = e as NodeJS.ErrnoException;
      throw new SinkWriteError(`audit file ${this.#path}: ${err.message}`, err.code ?? 'EIO');
    }
  }

  #writeAll(buf: Buffer, length: number): void {
    let off = 0;
    while (off < length) off += writeSync(this.#fd, buf, off, length - off);
  }

  flushAtExit(lines: readonly string[]): void {
    writeSync(this.#fd, lines.join(''));
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    try {
      closeSync(this.#fd);
    } catch {
      // Already closed.
    }
  }
}

function closeQuietly(fd: number): void {
  close(fd, () => undefined);
}

function fstatAsync(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, (e, s) => (e ? reject(e) : resolve(s))));
}

function openAsync(path: string, flags: string, mode: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, mode, (e, fd) => (e ? reject(e) : resolve(fd))));
}
