import type { CompileContext } from '../pipeline/feature.js';
import type { SessionRuntime } from '../oidc/runtime.js';
import { handleHandoff, handleStart } from './endpoints.js';
import { handleSignedOut } from './logout.js';
import {
  buildSso,
  HANDOFF_PATH,
  SIGNED_OUT_PATH,
  SSO_SERVICE,
  START_PATH,
  type SsoRuntime,
} from './runtime.js';

/**
 * Compiles `session.sso` (called by the session feature once its runtime exists): publishes the
 * {@link SsoRuntime} as the `sso` service and registers `/.gatehouse/sso/start` (login host),
 * `/.gatehouse/sso/handoff` (app hosts) and `/.gatehouse/signed-out`. Returns undefined
 * without `session.sso`.
 */
export function compileSso(cctx: CompileContext, rt: SessionRuntime): SsoRuntime | undefined {
  const sso = buildSso(cctx, rt);
  if (sso === undefined) return undefined;
  cctx.services.set(SSO_SERVICE, sso);
  cctx.registerEndpoint({ path: START_PATH, handle: (ctx) => handleStart(sso, ctx) });
  cctx.registerEndpoint({ path: HANDOFF_PATH, handle: (ctx) => handleHandoff(sso, ctx) });
  cctx.registerEndpoint({ path: SIGNED_OUT_PATH, handle: (ctx) => handleSignedOut(sso, ctx) });
  return sso;
}
