import { z } from 'zod';

/** Top-level `providers` section. */
export const providersSchema = z.object({}).strict();

/** Route-level keys owned by the authn area (spread into the route schema). */
export const routeAuthnFields = {};
