import type { RouteConfig } from '../config/schema.js';
import type { CompileContext } from '../pipeline/feature.js';
import type { Authenticator } from '../pipeline/stages.js';
import { apiKeyFactory } from './apikey.js';
import { bearerFactory } from './bearer.js';
import { mtlsFactory } from './mtls.js';
import { sessionFactory } from '../session/authenticator.js';

/** Builds the authenticator named in a route's `auth:` list. Runs once at config load. */
export type AuthenticatorFactory = (
  route: RouteConfig,
  keyPath: string,
  cctx: CompileContext,
) => Authenticator | undefined;

/**
 * Every authenticator a route can name in `auth:`. `none` is not listed: it marks a public
 * route and cannot be combined with others.
 */
export const authenticatorFactories: ReadonlyMap<string, AuthenticatorFactory> = new Map<
  string,
  AuthenticatorFactory
>([
  ['bearer', bearerFactory],
  ['session', sessionFactory],
  ['apikey', apiKeyFactory],
  ['mtls', mtlsFactory],
]);
