import { DOCTOR_USAGE } from './doctor-usage.js';
import { VALIDATE_USAGE } from './validate.js';
import { AUDIT_USAGE } from './audit-usage.js';
import { KEYS_USAGE } from './keys-usage.js';

/**
 * `--help` text of each subcommand (usage first, then what it does). `main` answers
 * `gatehouse <command> --help` from here before the command parses anything.
 */
export const COMMAND_USAGE: Readonly<Record<string, string>> = Object.freeze({
  start: `usage: gatehouse start -c FILE

Runs the gateway with the config FILE until SIGTERM or SIGINT, which drain in-flight requests
within server.shutdown_timeout. SIGHUP reloads the file atomically: a config that does not
validate keeps the running one.

  -c, --config FILE   the config file
  -h, --help          this help
`,
  validate: VALIDATE_USAGE,
  explain: `usage: gatehouse explain -c FILE [--token JWT|@file|-] [--cookie "name=value"] [--session-id ID]
                         [--header "Name: value"]... [--client-ip IP] [--json] METHOD URL
       gatehouse explain -c FILE --request-id ID [--audit FILE]... [--json]

Says why a request would be allowed or refused (route, every token or session check, rules,
decision), or reconstructs the decision of a past request from the audit trail. Loads the
config like validate (no network but the session store, no files written).

  -c, --config FILE     the config file
  --token JWT|@file|-   a bearer token, a file holding one, or - for stdin
  --cookie "name=value" the session cookie (or a Cookie header), read from the session store
  --session-id ID       the same, given the session id (store: redis; memory is per process)
  -H, --header "N: v"   a request header (repeatable)
  --client-ip IP        the client address (default 127.0.0.1)
  --request-id ID       explain a past request (X-Request-Id, the id on the error page)
  --audit FILE          audit file(s) to search (repeatable, rotated and .gz too);
                        default: audit.file and the file sinks of audit.sinks
  --json                the report as JSON
  -h, --help            this help

exit status: 0 allowed, 1 refused, 2 usage, configuration or input error (GH_EXPLAIN_*)
`,
  doctor: DOCTOR_USAGE,
  audit: AUDIT_USAGE,
  keys: KEYS_USAGE,
  dev: `usage: gatehouse dev [--port N] [--partners]

Local demo on loopback: an embedded OpenID provider (development only), a demo "legacy
intranet" app, and Gatehouse in front of it with single sign-on. Prints the URL and the demo
users. The demo apps verify Gatehouse's signed assertion against its JWKS
(/.well-known/gatehouse/jwks.json) and show the result. Ctrl+C stops everything.

  -p, --port N   gateway port (default 8080; 0 picks a free one)
  --partners     also a second demo identity provider for "partners" (other users): the
                 login host shows a chooser (session.logins)
  -h, --help     this help
`,
  schema: `usage: gatehouse schema

Prints the JSON Schema of the config file (what a user writes), for editor completion:
point your YAML language server at it.
`,
});

/** True when `argv` asks for help (`-h` / `--help` before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}
