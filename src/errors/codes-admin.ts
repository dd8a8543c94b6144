import type { ErrorEntry } from './entry.js';

/** Error codes of the admin listener and its JSON API (docs/console.md). */
export const adminCodes = {
  GH_ADMIN_CSRF: {
    status: 403,
    message: 'This admin action needs the X-Gatehouse-Admin header from the console itself.',
    meaning:
      'A POST or DELETE to the admin API came without the header `X-Gatehouse-Admin: 1`, or with an `Origin` (or `Sec-Fetch-Site`) that is not the admin listener itself. Browsers cannot add the header cross-site without a CORS preflight, which the admin listener never grants, so this refuses cross-site request forgery. Nothing was changed.',
  },
  GH_ADMIN_BAD_REQUEST: {
    status: 400,
    message: 'The admin API request is malformed.',
    meaning:
      'A query parameter or body of an admin API call has a value outside what it accepts (e.g. `decision=maybe`, `window=3d`, `limit=-1`, a body that is not JSON). The `detail` in the audit event names the parameter.',
  },
  GH_ADMIN_NOT_FOUND: {
    status: 404,
    message: 'No such admin resource.',
    meaning:
      'The admin API has no such path, or the thing named is unknown: a request id neither in the recent decisions nor in the audit files (`/api/explain/:id`), a session handle that is gone (already revoked or expired).',
  },
  GH_ADMIN_CONSOLE_NOT_BUILT: {
    status: 503,
    message: 'The admin console is not built. Run npm run build.',
    meaning:
      'The admin listener serves the console from `console/dist` of the installed package, and that directory is missing (a source checkout that was never built). Run `npm run build`; the JSON API works meanwhile.',
  },
  GH_ADMIN_STREAM_FULL: {
    status: 503,
    message: 'Too many live-stream clients.',
    meaning:
      'The live decision stream (`/api/decisions/stream`) already has `admin.stream.max_clients` clients. Close a console tab or raise the limit; each client costs a bounded buffer (`admin.stream.client_buffer`).',
  },
  GH_ADMIN_UNAVAILABLE: {
    status: 503,
    message: 'This admin action is not available with the current configuration.',
    meaning:
      'The admin action needs something that is not configured: listing or revoking sessions without `session`, rotating the assertion key without `identity` assertions. The `detail` names what is missing.',
  },
} as const satisfies Record<string, ErrorEntry>;
