import { z } from 'zod';
import type { RouteBasics } from '../pipeline/route.js';

const headerName = z
  .string()
  .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "expected a header name (letters, digits and !#$%&'*+-.^_`|~)");

/** Route-level keys of the edge guard: which upgrades and which guarded headers may pass. */
export const routeGuardFields = {
  websocket: z
    .boolean()
    .default(false)
    .describe(
      'Proxy WebSocket upgrades on this route. Off by default: an upgrade to a route without it is refused (400 GH_UPGRADE_NOT_ALLOWED). Other protocols (h2c…) are never upgraded.',
    ),
  trusted_headers: z
    .array(headerName)
    .default([])
    .describe(
      'Headers Gatehouse normally strips (path/method overrides, forwarding, client-certificate headers) that this route lets through when the immediate peer is in server.trusted_proxies. Never from other clients.',
    ),
};

/** Route keys the guard feature reads. */
export type GuardRoute = RouteBasics & z.output<z.ZodObject<typeof routeGuardFields>>;

/** Top-level config the guard feature reads. */
export interface GuardGlobals {
  readonly server: { readonly trusted_proxies: readonly string[] };
}
