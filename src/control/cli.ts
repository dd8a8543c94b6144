import { ConfigError, loadConfigFile } from '../config/load.js';
import { GatehouseError } from '../errors/error.js';
import type { CliIo } from '../cli/io.js';
import { parseFlags } from '../cli/io.js';
import { requestReload } from './client.js';
import { defaultControlPath } from './paths.js';

/** `gatehouse reload --help`. */
export const RELOAD_USAGE = `usage: gatehouse reload -c FILE | --socket PATH

Asks the running Gatehouse started with the config FILE to reload it, over its local control
channel (server.control: a Unix socket, mode 0600, or a Windows named pipe), and prints the
result. Works where there are no signals (Windows); on Linux it is SIGHUP with an answer.

  -c, --config FILE   the config file the instance runs (finds server.control.socket in it,
                      or the default: FILE with .sock; on Windows a pipe named after FILE)
  --socket PATH       the control socket or pipe itself
  -h, --help          this help

exit status: 0 reloaded, 1 the new config was refused (the running one is kept; errors on
stderr), 2 usage error, 3 no running instance answered
`;

/**
 * Where the instance started with `file` listens: `server.control.socket` when the file loads
 * and sets one, else the default derived from the file's path. A file that does not load is no
 * obstacle: the running instance reports its errors.
 */
async function controlPathFor(file: string): Promise<string> {
  try {
    const { config } = await loadConfigFile(file);
    return config.server.control.socket ?? defaultControlPath(file);
  } catch (e) {
    if (e instanceof ConfigError) return defaultControlPath(file);
    throw e;
  }
}

/** `gatehouse reload -c FILE | --socket PATH`: returns the exit status. */
export async function runReload(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, error } = parseFlags(argv, {
    config: { alias: 'c', value: true },
    socket: { value: true },
    help: { alias: 'h', value: false },
  });
  if (flags.help) {
    io.stdout.write(RELOAD_USAGE);
    return 0;
  }
  const file = typeof flags.config === 'string' ? flags.config : undefined;
  const socket = typeof flags.socket === 'string' ? flags.socket : undefined;
  if (error || (file === undefined && socket === undefined)) {
    io.stderr.write(`gatehouse reload: ${error ?? 'missing -c FILE or --socket PATH'}\n${RELOAD_USAGE}`);
    return 2;
  }
  const path = socket ?? (await controlPathFor(file as string));
  try {
    const r = await requestReload(path);
    if (r.ok) {
      io.stdout.write(`gatehouse: ${r.message}\n`);
      return 0;
    }
    io.stderr.write(`gatehouse: reload refused, the running configuration is kept:\n`);
    for (const e of r.errors) io.stderr.write(`  ${e}\n`);
    return 1;
  } catch (e) {
    if (!(e instanceof GatehouseError)) throw e;
    io.stderr.write(`gatehouse: ${e.code}: no running instance answered on ${e.detail ?? path}\n`);
    return 3;
  }
}
