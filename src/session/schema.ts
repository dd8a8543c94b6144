import { z } from 'zod';

/** Top-level `session` section. */
export const sessionSchema = z.object({}).strict();

/** Route-level keys owned by the session area (spread into the route schema). */
export const routeSessionFields = {};
