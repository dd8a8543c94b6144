import { createConnection } from 'node:net';
import { GatehouseError } from '../errors/error.js';
import type { ReloadResult } from './reload.js';

/** How long `gatehouse reload` waits for the running instance's answer. */
const ANSWER_TIMEOUT_MS = 120_000;

/**
 * Asks the instance listening on control channel `path` to reload its config file and returns
 * its answer. Rejects with `GH_CONTROL_FAILED` when nothing answers or the answer is not valid.
 */
export function requestReload(path: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<ReloadResult> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    const fail = (detail: string) => {
      s.destroy();
      reject(new GatehouseError('GH_CONTROL_FAILED', `${path}: ${detail}`));
    };
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => fail('no answer in time'));
    s.once('connect', () => s.write(`${JSON.stringify({ op: 'reload' })}\n`));
    s.on('data', (d: string) => {
      buf += d;
      if (buf.length > 1 << 20) fail('answer too large');
    });
    s.once('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    s.once('end', () => {
      try {
        const r = JSON.parse(buf) as ReloadResult;
        if (typeof r.ok !== 'boolean') return fail('invalid answer');
        resolve(r);
      } catch {
        fail('invalid answer');
      }
    });
  });
}
