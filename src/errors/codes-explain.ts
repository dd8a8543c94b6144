import type { ErrorEntry } from './entry.js';

/** Error codes of `gatehouse explain` (command line only: never an HTTP answer). */
export const explainCodes = {
  GH_EXPLAIN_REQUEST_NOT_FOUND: {
    status: 404,
    message: 'No audit event has this request id.',
    meaning:
      '`gatehouse explain --request-id` read every audit file it was given (default: `audit.file`) and found no event with this request id: the request went to another instance or worker file, to a rotated file not named with `--audit`, or audit is off (`audit.file` unset, only `audit.stdout`).',
  },
  GH_EXPLAIN_AUDIT_UNREADABLE: {
    status: 400,
    message: 'The audit file cannot be read.',
    meaning:
      '`gatehouse explain --request-id` could not open or decompress an audit file (missing, no permission, a `.gz` file that is not gzip), or no audit file is configured (`audit.file`) and none was given with `--audit`.',
  },
  GH_EXPLAIN_SESSION_STORE_MEMORY: {
    status: 400,
    message: 'Sessions in the memory store cannot be explained from another process.',
    meaning:
      '`gatehouse explain --cookie/--session-id` reads sessions from the configured store. With `session.store: memory` they live inside the running Gatehouse process only; use `store: redis` (which also shares sessions between instances) to explain them.',
  },
} as const satisfies Record<string, ErrorEntry>;
