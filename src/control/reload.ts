import { ConfigError } from '../config/load.js';
import { GatehouseError } from '../errors/error.js';

/** The answer to a reload, whoever asked (SIGHUP, config watch, `gatehouse reload`, the primary). */
export type ReloadResult =
  | { readonly ok: true; readonly message: string }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Turns a failed load / compile / swap into the lines an operator reads (key paths first). */
export function reloadFailure(e: unknown): ReloadResult {
  if (e instanceof ConfigError) {
    const errors = e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
    return { ok: false, errors: errors.length ? errors : [e.message] };
  }
  if (e instanceof GatehouseError) return { ok: false, errors: [`${e.code}: ${e.detail ?? e.message}`] };
  return { ok: false, errors: [e instanceof Error ? e.message : String(e)] };
}

/**
 * Runs reloads one at a time: a reload asked for while another runs waits for it, so two
 * triggers (a file save and a `gatehouse reload`) never compile side by side.
 */
export class ReloadQueue {
  #tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly run: () => Promise<ReloadResult>) {}

  /** Queues one reload; resolves with its result (never rejects). */
  request(): Promise<ReloadResult> {
    const next = this.#tail.then(
      () => this.run().catch(reloadFailure),
      () => this.run().catch(reloadFailure),
    );
    this.#tail = next;
    return next;
  }
}
