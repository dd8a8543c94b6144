import type { CompileContext } from '../pipeline/feature.js';
import type { Authenticator } from '../pipeline/stages.js';
import type { AuthnGlobals, AuthnRoute } from './schema.js';

/** Builds the authenticator named in a route's `auth:` list. Runs once at config load. */
export type AuthenticatorFactory = (
  route: AuthnRoute,
  keyPath: string,
  cctx: CompileContext<AuthnGlobals>,
) => Authenticator | undefined;
