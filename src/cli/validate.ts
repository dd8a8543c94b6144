import { checkConfigFile } from '../config/check.js';
import { silentLogger } from '../log/logger.js';
import { type CliIo, parseFlags } from './io.js';

/** Usage of `gatehouse validate`, printed by `--help` and after usage errors. */
export const VALIDATE_USAGE = `usage: gatehouse validate [-c] FILE [--json]

Validates and compiles a config file without binding ports, fetching anything or writing files.
Prints every problem in one pass — schema and semantic — each with its key path, and warnings.

  -c, --config FILE   the config file (or give it as the only argument)
  --json              print {valid, file, errors, warnings} as JSON on stdout
  -h, --help          this help

exit status: 0 valid, 1 invalid, 2 usage error
`;

/**
 * `gatehouse validate [-c] FILE`: parses, validates and compiles the config without binding
 * ports or fetching anything; prints every error and warning with its key path.
 * Exit 0 when valid, 1 when not, 2 on usage errors.
 */
export async function runValidate(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, positionals, error } = parseFlags(argv, {
    config: { alias: 'c', value: true },
    json: { value: false },
    help: { alias: 'h', value: false },
  });
  if (flags.help) {
    io.stdout.write(VALIDATE_USAGE);
    return 0;
  }
  const files = [...(typeof flags.config === 'string' ? [flags.config] : []), ...positionals];
  const usageError =
    error ?? (files.length === 0 ? 'missing FILE' : files.length > 1 ? 'expected one FILE' : undefined);
  if (usageError) {
    io.stderr.write(`gatehouse validate: ${usageError}\n${VALIDATE_USAGE}`);
    return 2;
  }
  const given = files[0] as string;
  const r = await checkConfigFile(given, { logger: silentLogger() });
  const errors = r.problems.filter((p) => p.severity === 'error');
  const warnings = r.problems.filter((p) => p.severity === 'warning');
  const valid = errors.length === 0;
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ valid, file: r.file, errors, warnings }, null, 2)}\n`);
  } else if (valid) {
    for (const w of warnings) io.stdout.write(`warning: ${w.path}: ${w.message}\n`);
    const n = r.routes ?? 0;
    io.stdout.write(`${r.file ?? given}: configuration is valid (${n} route${n === 1 ? '' : 's'})\n`);
  } else {
    io.stderr.write(`${r.file ?? given}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n`);
    for (const p of errors) io.stderr.write(`error: ${p.path}: ${p.message}\n`);
    for (const p of warnings) io.stderr.write(`warning: ${p.path}: ${p.message}\n`);
  }
  return valid ? 0 : 1;
}
