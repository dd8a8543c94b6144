import type { Logger } from 'pino';
import type { GatehouseMetrics } from '../metrics/gateway.js';
import type { ReloadResult } from '../control/reload.js';
import { isClusterMessage, type ClusterMessage } from './messages.js';

/** How long a worker waits for the primary's aggregated metrics before serving its own. */
const METRICS_TIMEOUT_MS = 8000;

function send(m: ClusterMessage): void {
  if (process.connected) process.send?.(m);
}

/**
 * Wires a cluster worker to its primary: reloads when told (the primary validated the file
 * first), answers snapshot requests with its own metrics, and serves scrapes of
 * `/.gatehouse/metrics` with the cluster's aggregate obtained from the primary. SIGHUP sent to the
 * worker alone is ignored: reloads are coordinated by the primary so every worker runs the same
 * configuration.
 */
export function attachWorker(opts: {
  readonly reload: () => Promise<ReloadResult>;
  readonly metrics: GatehouseMetrics;
  readonly logger: Logger;
}): void {
  const pending = new Map<number, (text: string) => void>();
  let seq = 0;
  process.on('SIGHUP', () =>
    opts.logger.warn('SIGHUP to a worker is ignored: send it to the primary (all workers reload together)'),
  );
  process.on('message', (m: unknown) => {
    if (!isClusterMessage(m)) return;
    switch (m.gh) {
      case 'reload':
        void opts.reload().then((result) => send({ gh: 'reload-result', id: m.id, result }));
        break;
      case 'snapshot':
        send({ gh: 'snapshot-result', id: m.id, text: opts.metrics.expose() });
        break;
      case 'metrics-result':
        pending.get(m.id)?.(m.text);
        pending.delete(m.id);
        break;
      default:
        break;
    }
  });
  opts.metrics.clusterSource = () =>
    new Promise<string>((resolve, reject) => {
      const id = ++seq;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('no answer from the cluster primary'));
      }, METRICS_TIMEOUT_MS);
      pending.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      send({ gh: 'metrics', id });
    });
}

/** Tells the primary this worker serves (or could not start). */
export function reportStart(error?: string): void {
  send(error === undefined ? { gh: 'ready' } : { gh: 'start-failed', error });
}
