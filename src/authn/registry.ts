import type { AuthenticatorFactory } from './factory.js';
import { apiKeyFactory } from './apikey.js';
import { bearerFactory } from './bearer.js';
import { mtlsFactory } from './mtls.js';
import { sessionFactory } from '../session/authenticator.js';

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
