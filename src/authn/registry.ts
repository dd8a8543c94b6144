import type { RouteConfig } from '../config/schema.js';
import type { CompileContext } from '../pipeline/feature.js';
import type { Authenticator } from '../pipeline/stages.js';

/** Builds the authenticator named in a route's `auth:` list. Runs once at config load. */
export type AuthenticatorFactory = (route: RouteConfig, keyPath: string, cctx: CompileContext) => Authenticator | undefined;

/**
 * Every authenticator a route can name in `auth:`. `none` is not listed: it marks a public
 * route and cannot be combined with others.
 */
export const authenticatorFactories: ReadonlyMap<string, AuthenticatorFactory> = new Map<string, AuthenticatorFactory>([
  // ['bearer', bearerFactory],   (issue 3)
  // ['session', sessionFactory], (issue 4)
  // ['apikey', apiKeyFactory],   (issue 6)
  // ['mtls', mtlsFactory],       (issue 5)
]);
