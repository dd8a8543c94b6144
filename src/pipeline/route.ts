/** Compiled routes and what features contribute to them (see `contracts.ts`). */
export type { CompiledRoute, OwnCookies, RouteBasics, RouteStages, RouteUpstream } from './contracts.js';
export { emptyStages } from './contracts.js';
