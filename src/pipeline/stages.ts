/** The stage contracts: authenticators, authoriser, limiters, mutators, endpoints (see `contracts.ts`). */
export { AUTHN_NONE } from './contracts.js';
export type {
  Authenticator,
  AuthnResult,
  Authorizer,
  InternalEndpoint,
  LimitResult,
  Limiter,
  Mutator,
} from './contracts.js';
