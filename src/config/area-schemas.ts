/**
 * Each feature area owns the schema of its configuration: top-level sections and the
 * route-level keys it reads. The root schema in `schema.ts` composes them.
 */
export { providersSchema, routeAuthnFields } from '../authn/schema.js';
export { policiesSchema, routeAuthzFields } from '../authz/schema.js';
export { sessionSchema, routeSessionFields } from '../session/schema.js';
export { identitySchema, routeIdentityFields } from '../identity/schema.js';
export { limitsSchema, routeLimitsFields, apiKeysSchema } from '../limits/schema.js';
export { cacheSchema, routeCacheFields } from '../cache/schema.js';
export { routeGuardFields } from '../guard/schema.js';
