import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { isPipePath } from './paths.js';
import type { ReloadResult } from './reload.js';

/** Largest request line accepted on the control channel. */
const MAX_REQUEST_BYTES = 4096;
/** A client must send its request line within this time. */
const REQUEST_TIMEOUT_MS = 10_000;

/** What the control channel can do. Only reload: nothing else is exposed. */
export interface ControlHandlers {
  reload(): Promise<ReloadResult>;
}

/** True when something answers on `path` (another running instance). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Removes a stale Unix socket left by a process that died; refuses to touch a path that is not a
 * socket, or a socket another instance still answers on.
 */
async function clearStale(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  if (await answers(path)) throw new Error(`another instance is listening on ${path}`);
  unlinkSync(path);
}

function serve(socket: Socket, handlers: ControlHandlers, logger: Logger): void {
  let buf = '';
  socket.setEncoding('utf8');
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
  const answer = (r: ReloadResult | { ok: false; errors: string[] }) => socket.end(`${JSON.stringify(r)}\n`);
  const onData = (chunk: string) => {
    buf += chunk;
    if (buf.length > MAX_REQUEST_BYTES) return void socket.destroy();
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    socket.off('data', onData);
    socket.setTimeout(0);
    let op: unknown;
    try {
      op = (JSON.parse(buf.slice(0, nl)) as { op?: unknown }).op;
    } catch {
      return answer({ ok: false, errors: ['control: request is not JSON'] });
    }
    if (op !== 'reload')
      return answer({ ok: false, errors: [`control: unknown operation ${JSON.stringify(op)}`] });
    logger.info('reload requested over the control channel');
    void handlers.reload().then(answer);
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

/**
 * The local control channel `gatehouse reload` talks to: a Unix domain socket created with mode
 * 0600 (only the owner — the account Gatehouse runs as — and root can connect), or on Windows a
 * named pipe. One JSON line in (`{"op":"reload"}`), one JSON line out ({@link ReloadResult}).
 */
export async function startControlServer(
  path: string,
  handlers: ControlHandlers,
  logger: Logger,
): Promise<{ readonly path: string; close(): Promise<void> }> {
  const pipe = isPipePath(path);
  if (!pipe) await clearStale(path);
  const server: Server = createServer((s) => serve(s, handlers, logger));
  const previous = pipe ? undefined : process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
  if (!pipe) chmodSync(path, 0o600);
  logger.info({ socket: path }, 'control channel listening (gatehouse reload)');
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
