import { z } from 'zod';
import { parseProxyUrl } from './outbound.js';

/**
 * Outbound keys of a provider (`providers.<name>.proxy`, `.ca`): how its calls to the IdP
 * (discovery, JWKS, introspection, token, userinfo) reach it.
 */
export const outboundFields = {
  proxy: z
    .string()
    .min(1)
    .superRefine((v, ctx) => {
      if (v === 'none') return;
      const u = parseProxyUrl(v);
      if (typeof u === 'string') ctx.addIssue({ code: 'custom', message: `${u}, or "none"` });
    })
    .optional()
    .describe(
      'Outbound HTTP proxy for calls to this IdP: `http://[user:password@]host:port`, or `none` to go direct whatever the environment says. Default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment.',
    ),
  ca: z
    .string()
    .min(1)
    .optional()
    .describe(
      'PEM bundle trusted for TLS to this IdP (and an https proxy), e.g. the root of a TLS-inspecting proxy or a private CA. Replaces the built-in roots for this provider.',
    ),
};
