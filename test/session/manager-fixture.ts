import pino from 'pino';
import { defaultClaimMapper, sessionPrincipal } from '../../src/oidc/principal.js';
import { KeyRing } from '../../src/session/keyring.js';

/** What the `SessionManager` tests share: a silent logger, one key ring and the default principal mapping. */
export const logger = pino({ level: 'silent' });
export const keys = KeyRing.fromSecrets(['unit-test-secret-0123456789abcdef-0123']);
export const principalOf = (claims: Record<string, unknown>, id: string, x: number) =>
  sessionPrincipal(claims, defaultClaimMapper, {
    provider: 'idp',
    sessionId: id,
    expiresAt: x,
    maxGroups: 10,
    referencedGroups: new Set(),
  });
