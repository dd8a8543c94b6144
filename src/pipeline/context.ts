/** The per-request context (defined with the other pipeline contracts in `contracts.ts`). */
export type { RequestContext } from './contracts.js';
