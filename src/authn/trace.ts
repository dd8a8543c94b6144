import type { TraceEntry } from '../pipeline/decision.js';

/** Records one token check for `gatehouse explain`; absent on the request path. */
export type Tracer = (check: string, pass: boolean, detail?: string) => void;

/** A tracer that appends to `entries`. */
export function collect(entries: TraceEntry[]): Tracer {
  return (check, pass, detail) => {
    entries.push(detail === undefined ? { check, pass } : { check, pass, detail });
  };
}
