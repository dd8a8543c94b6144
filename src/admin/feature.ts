import type { Feature } from '../pipeline/feature.js';
import type { AuthzGlobals } from '../authz/schema.js';
import { compileAdminAccess } from './access.js';
import type { AdminGlobals } from './schema.js';

/** `services` key of the compiled {@link AdminAccess}. */
export const ADMIN_SERVICE = 'admin';
/** Key in the `persistent` service (outlives reloads) of the admin listener's bound URL. */
export const ADMIN_URL = 'admin.url';

/**
 * The admin feature: compiles `admin.access` (after the session and authz features, whose
 * runtime it reuses) into the access check of the admin listener (src/admin/listener.ts). It
 * contributes nothing to routes: the proxy's hot path is untouched.
 */
export const adminFeature: Feature<AdminGlobals & AuthzGlobals> = {
  id: 'admin',
  compileGlobal(cctx) {
    const cfg = cctx.config.admin;
    if (cfg === undefined) return;
    const persistent = cctx.services.get('persistent') as Map<string, unknown> | undefined;
    const publicUrl = () =>
      (
        cfg.public_url ??
        (persistent?.get(ADMIN_URL) as string | undefined) ??
        `http://${cfg.listen}`
      ).replace(/\/+$/, '');
    const access = compileAdminAccess(cctx, publicUrl);
    if (access !== undefined) cctx.services.set(ADMIN_SERVICE, access);
  },
};
