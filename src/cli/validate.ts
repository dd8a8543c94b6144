import { loadConfigFile, ConfigError } from '../config/load.js';
import { compileState } from '../config/compile.js';
import { silentLogger } from '../log/logger.js';
import { type CliIo, parseFlags } from './io.js';

/**
 * `gatehouse validate -c FILE`: parses, validates and compiles the config without binding
 * ports or fetching anything; prints every error and warning with its key path.
 * Exit 0 when valid, 1 when not, 2 on usage errors.
 */
export async function runValidate(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, error } = parseFlags(argv, { config: { alias: 'c', value: true }, json: { value: false } });
  if (error || typeof flags.config !== 'string') {
    io.stderr.write(
      `gatehouse validate: ${error ?? 'missing -c FILE'}\nusage: gatehouse validate -c FILE [--json]\n`,
    );
    return 2;
  }
  try {
    const { config, baseDir, file } = await loadConfigFile(flags.config);
    const state = compileState(config, { logger: silentLogger(), baseDir, dryRun: true });
    await state.close();
    const warnings = state.warnings.filter((w) => w.severity === 'warning');
    if (flags.json)
      io.stdout.write(`${JSON.stringify({ valid: true, file, errors: [], warnings }, null, 2)}\n`);
    else {
      for (const w of warnings) io.stdout.write(`warning: ${w.path}: ${w.message}\n`);
      io.stdout.write(
        `${file}: configuration is valid (${state.routes.length} route${state.routes.length === 1 ? '' : 's'})\n`,
      );
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const errors = e.problems.filter((p) => p.severity === 'error');
    const warnings = e.problems.filter((p) => p.severity === 'warning');
    if (flags.json)
      io.stdout.write(`${JSON.stringify({ valid: false, file: e.file, errors, warnings }, null, 2)}\n`);
    else {
      io.stderr.write(`${e.file ?? flags.config}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n`);
      for (const p of errors) io.stderr.write(`error: ${p.path}: ${p.message}\n`);
      for (const p of warnings) io.stderr.write(`warning: ${p.path}: ${p.message}\n`);
    }
    return 1;
  }
}
