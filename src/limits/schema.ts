import { z } from 'zod';

/** Top-level `limits` section. */
export const limitsSchema = z.object({}).strict();

/** Route-level keys owned by the limits area (spread into the route schema). */
export const routeLimitsFields = {};
