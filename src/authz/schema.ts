import { z } from 'zod';

/** Top-level `policies` section. */
export const policiesSchema = z.object({}).strict();

/** Route-level keys owned by the authz area (spread into the route schema). */
export const routeAuthzFields = {};
