import type { StepUpRequest } from './state.js';

/** Allowed clock skew between Gatehouse and the IdP for `auth_time` (seconds). */
export const AUTH_TIME_SKEW_S = 60;

/**
 * Why an ID token does not satisfy a step-up request, or undefined when it does (OIDC Core
 * §2, §3.1.2.1): `auth_time` at most `maxAge` seconds ago (required when max_age was sent),
 * `acr` one of the requested values, `amr` containing every required method.
 */
export function stepUpProblem(
  req: StepUpRequest,
  claims: Readonly<Record<string, unknown>>,
  nowMs: number,
): string | undefined {
  if (req.maxAge !== undefined) {
    const t = claims.auth_time;
    if (typeof t !== 'number') return 'the ID token has no auth_time (required with max_age)';
    if (nowMs / 1000 - t > req.maxAge + AUTH_TIME_SKEW_S)
      return `auth_time is ${Math.round(nowMs / 1000 - t)}s old, more than max_age ${req.maxAge}s`;
  }
  if (req.acr !== undefined) {
    const acr = claims.acr;
    if (typeof acr !== 'string' || !req.acr.includes(acr))
      return `acr ${JSON.stringify(acr ?? null)} is not one of ${JSON.stringify(req.acr)}`;
  }
  if (req.amr !== undefined) {
    const amr = Array.isArray(claims.amr) ? claims.amr : [];
    const missing = req.amr.filter((m) => !amr.includes(m));
    if (missing.length > 0) return `amr ${JSON.stringify(amr)} lacks ${JSON.stringify(missing)}`;
  }
  return undefined;
}
