import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from '../config/schema.js';
import type { CliIo } from './io.js';
import { runStart } from './start.js';
import { runValidate } from './validate.js';
import { COMMAND_USAGE, wantsHelp } from './usage.js';

const HELP = `gatehouse — identity-aware reverse proxy and API gateway

usage:
  gatehouse start -c FILE        run the gateway (SIGHUP reloads, SIGTERM drains)
  gatehouse reload -c FILE       reload a running instance (control socket; for Windows)
  gatehouse validate [-c] FILE   check a config file; prints every error with its key path
  gatehouse explain -c FILE [--token JWT|@file|-] [--cookie C] [--json] METHOD URL
                                 say why a request would be allowed or refused
  gatehouse explain -c FILE --request-id ID [--audit FILE]...
                                 reconstruct a past request's decision from the audit trail
  gatehouse doctor -c FILE [--token JWT] [--json]
                                 check the config against the live IdPs, upstreams and certificates
  gatehouse audit verify FILE... [--key PUBKEY] [--json]
                                 check the audit hash chains and signed checkpoints
  gatehouse keys export -c FILE [--out FILE]
                                 print the public JWKS of the signed assertion (air-gapped verifiers)
  gatehouse dev [--port N]       local demo: OpenID provider + demo app + gateway
  gatehouse schema               print the JSON Schema of the config file
  gatehouse --version | --help
  gatehouse COMMAND --help       usage of one command
`;

/** Version from package.json. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The JSON Schema of gatehouse.yaml (input side: what a user writes). */
export function jsonSchema(): unknown {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Gatehouse configuration',
    ...(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as object),
  };
}

/** CLI entry: returns the process exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [cmd, ...rest] = argv;
  const usage = cmd === undefined ? undefined : COMMAND_USAGE[cmd];
  if (usage !== undefined && wantsHelp(rest)) {
    io.stdout.write(usage);
    return 0;
  }
  switch (cmd) {
    case 'start':
      return runStart(rest, io);
    case 'validate':
      return runValidate(rest, io);
    case 'schema':
      io.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
      return 0;
    case 'reload': {
      const { runReload } = await import('../control/cli.js');
      return runReload(rest, io);
    }
    case 'explain': {
      const { runExplain } = await import('./explain.js');
      return runExplain([...rest], io);
    }
    case 'doctor': {
      const { runDoctorCli } = await import('./doctor.js');
      return runDoctorCli(rest, io);
    }
    case 'audit': {
      const { runAudit } = await import('./audit.js');
      return runAudit(rest, io);
    }
    case 'keys': {
      const { runKeys } = await import('./keys.js');
      return runKeys(rest, io);
    }
    case 'dev': {
      const { runDev } = await import('./dev.js');
      return runDev([...rest], io);
    }
    case '--version':
    case '-v':
    case 'version':
      io.stdout.write(`${version()}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    default:
      io.stderr.write(`gatehouse: unknown command "${cmd}"\n\n${HELP}`);
      return 2;
  }
}
