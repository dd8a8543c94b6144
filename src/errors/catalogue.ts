import { coreCodes } from './codes-core.js';
import { authnCodes } from './codes-authn.js';
import { authzCodes } from './codes-authz.js';
import { sessionCodes } from './codes-session.js';
import { identityCodes } from './codes-identity.js';
import { limitsCodes } from './codes-limits.js';
import { protocolCodes } from './codes-protocol.js';
import { explainCodes } from './codes-explain.js';
import { kerberosCodes } from './codes-kerberos.js';
import { adminCodes } from './codes-admin.js';

import type { ErrorEntry } from './entry.js';

export type { ErrorEntry };

/**
 * Every error code Gatehouse can answer with. `docs/errors.md` is generated from this table
 * (`npm run docs:errors`) and a test checks that they agree.
 */
export const catalogue = {
  ...coreCodes,
  ...authnCodes,
  ...authzCodes,
  ...sessionCodes,
  ...identityCodes,
  ...limitsCodes,
  ...protocolCodes,
  ...explainCodes,
  ...kerberosCodes,
  ...adminCodes,
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof catalogue;
