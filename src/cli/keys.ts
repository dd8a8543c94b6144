import { writeFileSync } from 'node:fs';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { exportAssertionJwks } from '../identity/export.js';
import { type CliIo, parseFlags } from './io.js';
import { KEYS_USAGE } from './keys-usage.js';

/** `gatehouse keys export -c FILE [--out FILE] [--format jwks]`. */
export async function runKeys(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, positionals, error } = parseFlags(argv, {
    config: { alias: 'c', value: true },
    out: { alias: 'o', value: true },
    format: { value: true },
  });
  const usageError =
    error ??
    (positionals[0] !== 'export'
      ? `expected the subcommand export, got ${positionals[0] ?? 'nothing'}`
      : positionals.length > 1
        ? `unexpected argument ${positionals[1]}`
        : typeof flags.config !== 'string'
          ? 'missing -c FILE'
          : flags.format !== undefined && flags.format !== 'jwks'
            ? `unknown --format ${String(flags.format)} (expected jwks)`
            : undefined);
  if (usageError) {
    io.stderr.write(`gatehouse keys: ${usageError}\n${KEYS_USAGE}`);
    return 2;
  }
  let jwks: string;
  try {
    const { config, baseDir } = await loadConfigFile(flags.config as string);
    jwks = exportAssertionJwks(config, baseDir);
  } catch (e) {
    io.stderr.write(
      `gatehouse keys export: ${e instanceof ConfigError ? e.message : (e as Error).message}\n`,
    );
    return 1;
  }
  if (typeof flags.out === 'string') {
    try {
      writeFileSync(flags.out, jwks, { mode: 0o644 });
    } catch (e) {
      io.stderr.write(`gatehouse keys export: cannot write ${flags.out}: ${(e as Error).message}\n`);
      return 1;
    }
    const n = (JSON.parse(jwks) as { keys: unknown[] }).keys.length;
    io.stderr.write(`gatehouse keys export: wrote ${n} public key${n === 1 ? '' : 's'} to ${flags.out}\n`);
  } else io.stdout.write(jwks);
  return 0;
}
