import { z } from 'zod';

/** Top-level `identity` section. */
export const identitySchema = z.object({}).strict();

/** Route-level keys owned by the identity area (spread into the route schema). */
export const routeIdentityFields = {};
