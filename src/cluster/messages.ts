import type { ReloadResult } from '../control/reload.js';

/**
 * IPC messages between the cluster primary and its workers (`process.send`). Every message has a
 * `gh` tag; anything else on the channel (Node's own cluster traffic) is ignored.
 */
export type ClusterMessage =
  /** worker → primary: listeners bound and start work done. */
  | { readonly gh: 'ready' }
  /** worker → primary: the worker failed to start (fatal: bad listener, unreadable file…). */
  | { readonly gh: 'start-failed'; readonly error: string }
  /** primary → worker: reload the config file (already validated by the primary). */
  | { readonly gh: 'reload'; readonly id: number }
  /** worker → primary: the worker's reload result. */
  | { readonly gh: 'reload-result'; readonly id: number; readonly result: ReloadResult }
  /** worker → primary: a scrape of `/.gatehouse/metrics` arrived; answer with the cluster's. */
  | { readonly gh: 'metrics'; readonly id: number }
  /** primary → worker: the aggregated exposition for request `id`. */
  | { readonly gh: 'metrics-result'; readonly id: number; readonly text: string }
  /** primary → worker: send your own exposition. */
  | { readonly gh: 'snapshot'; readonly id: number }
  /** worker → primary: this worker's exposition. */
  | { readonly gh: 'snapshot-result'; readonly id: number; readonly text: string };

/** True when `m` is one of Gatehouse's cluster messages. */
export function isClusterMessage(m: unknown): m is ClusterMessage {
  return typeof m === 'object' && m !== null && typeof (m as { gh?: unknown }).gh === 'string';
}

/** Environment variable carrying a worker's slot (0…N-1; a respawned worker keeps its slot). */
export const SLOT_ENV = 'GATEHOUSE_WORKER_SLOT';
