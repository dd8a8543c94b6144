import { hash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isoNow, jsonString } from '../log/json.js';
import { checkpointMessage, signCheckpoint, type SigningKey } from './key.js';

/** Record types the chain itself writes (besides the request events it links). */
export const CHAIN_START = 'audit.chain_start';
export const CHECKPOINT = 'audit.checkpoint';
export const CHAIN_END = 'audit.chain_end';

/** Options of an {@link AuditChain}. */
export interface ChainOptions {
  readonly key: SigningKey;
  /** Events between signed checkpoints. */
  readonly every: number;
  /** Longest time between checkpoints while events are written (ms); 0: by count only. */
  readonly intervalMs: number;
  /** Where linked lines go (every sink), without the newline. */
  readonly out: (line: string) => void;
}

/** SHA-256 of a line, base64url: the `prev` of the next record. ~0.5 µs for a typical event. */
export function lineHash(line: string): string {
  return hash('sha256', line, 'base64url');
}

/**
 * The hash chain of one writer (one process: each cluster worker has its own). Every line gets
 * `"chain":{"id","seq","prev"}` appended as its last member: `seq` counts from 0 in the chain,
 * `prev` is the SHA-256 (base64url) of the previous line exactly as written. Signed records
 * (`audit.chain_start` with the public key, `audit.checkpoint` every `every` events or
 * `intervalMs`, `audit.chain_end` on close) sign chain id, their seq, their prev and time, so
 * that editing, removing or reordering any earlier line breaks a signature as well as the chain.
 */
export class AuditChain {
  /** Random chain id (base64url, 16 characters), new at every start. */
  readonly id = randomBytes(12).toString('base64url');
  readonly #key: SigningKey;
  readonly #every: number;
  readonly #out: (line: string) => void;
  readonly #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  #prev = '';
  #events = 0;
  #sinceCheckpoint = 0;
  #ended = false;

  constructor(opts: ChainOptions) {
    this.#key = opts.key;
    this.#every = opts.every;
    this.#out = opts.out;
    this.#timer =
      opts.intervalMs > 0
        ? setInterval(() => {
            if (this.#sinceCheckpoint > 0) this.#signed(CHECKPOINT, '');
          }, opts.intervalMs).unref()
        : undefined;
    const k = this.#key;
    // The cluster slot of this worker (src/cluster sets it in the worker's environment).
    const slot = Number(process.env['GATEHOUSE_WORKER_SLOT']);
    const worker =
      Number.isInteger(slot) && process.env['GATEHOUSE_WORKER_SLOT'] !== undefined ? `,"worker":${slot}` : '';
    const start = `,"chain_start":{"host":${jsonString(hostname())},"pid":${process.pid}${worker},"key":{"alg":"${k.alg}","kid":"${k.kid}","source":"${k.source}","public_key":${JSON.stringify(k.publicPem)}}}`;
    this.#signed(CHAIN_START, start);
  }

  /** Sequence number the next line gets. */
  get seq(): number {
    return this.#seq;
  }

  /** Links one event line (a JSON object, no newline) into the chain and writes it. */
  write(line: string): void {
    if (this.#ended) return;
    this.#emit(line);
    this.#events++;
    if (++this.#sinceCheckpoint >= this.#every) this.#signed(CHECKPOINT, '');
  }

  /** Writes the signed `audit.chain_end` record; later lines are not chained. */
  end(): void {
    if (this.#ended) return;
    if (this.#timer) clearInterval(this.#timer);
    this.#signed(CHAIN_END, '');
    this.#ended = true;
  }

  #signed(type: string, body: string): void {
    const time = isoNow();
    const sig = signCheckpoint(this.#key, checkpointMessage(this.id, this.#seq, this.#prev, time));
    this.#sinceCheckpoint = 0;
    this.#emit(
      `{"time":"${time}","type":"${type}"${body},"checkpoint":{"events":${this.#events},"kid":"${this.#key.kid}","sig":"${sig}"}}`,
    );
  }

  #emit(line: string): void {
    const linked = `${line.slice(0, -1)},"chain":{"id":"${this.id}","seq":${this.#seq},"prev":"${this.#prev}"}}`;
    this.#seq++;
    this.#prev = lineHash(linked);
    this.#out(linked);
  }
}
