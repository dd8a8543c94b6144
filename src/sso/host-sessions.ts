import { newSessionId, type SessionStore } from '../session/store.js';

/** Store key prefix of host sessions (never a valid session id: ids have no colon). */
const HOST_PREFIX = 'sso-s:';
/** Index of every host session of one global session, for cleanup at logout. */
const GLOBAL_INDEX = 'sso-g:';
/** Session ids are 32 random bytes in base64url (see `newSessionId`). */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Host sessions: what an app host's own cookie names. A host session holds no identity, only a
 * reference to the global session (the login host's session, which holds the principal and
 * tokens) and the origin it was issued for. Every request on an app host therefore reads the
 * global session too, so ending the global session — logout on any host, back-channel logout
 * from the IdP, expiry — makes every host's cookie useless at once, on every instance sharing
 * the store. Host sessions never outlive their global session's absolute expiry.
 */
export class HostSessions {
  constructor(private readonly store: SessionStore) {}

  /**
   * Creates a host session for `origin` linked to `globalId`, ending at `expiresAt` (epoch ms).
   * It is also listed under `indexes` (the global session's `sid:`/`sub:` back-channel logout
   * indexes), so a back-channel logout deletes the host records along with the global one.
   */
  async create(
    globalId: string,
    origin: string,
    expiresAt: number,
    indexes: readonly string[] = [],
  ): Promise<string> {
    const id = newSessionId();
    const ttl = expiresAt - Date.now();
    await this.store.set(HOST_PREFIX + id, { g: globalId, o: origin }, ttl);
    await Promise.all(
      [GLOBAL_INDEX + globalId, ...indexes].map((index) => this.store.index(index, HOST_PREFIX + id, ttl)),
    );
    return id;
  }

  /**
   * The global session id a host session cookie stands for, or undefined: unknown id, or a
   * cookie issued for another origin (a host cookie is never accepted anywhere else).
   */
  async globalId(id: string, origin: string): Promise<string | undefined> {
    if (!SESSION_ID.test(id)) return undefined;
    const d = await this.store.get(HOST_PREFIX + id);
    if (d === undefined || d.o !== origin || typeof d.g !== 'string') return undefined;
    return d.g;
  }

  /** Ends one host session (a new handoff replaces it: no fixation). */
  async end(id: string): Promise<void> {
    if (SESSION_ID.test(id)) await this.store.delete(HOST_PREFIX + id);
  }

  /** Deletes every host session of `globalId` (the global session itself is ended by the caller). */
  endAll(globalId: string): Promise<number> {
    return this.store.deleteByIndex(GLOBAL_INDEX + globalId);
  }
}
