import { createHash } from 'node:crypto';
import { GatehouseError } from '../errors/index.js';
import type { SessionRuntime } from '../oidc/runtime.js';
import type { SessionRecord } from '../oidc/sessions.js';

/** A session as the admin API lists it: never the session id (it is the cookie value). */
export interface SessionJson {
  /** Opaque handle: the user and a hash of the session id. */
  readonly id: string;
  readonly user: string;
  readonly name: string | null;
  readonly login: string | null;
  readonly created: string;
  readonly last_seen: string;
  readonly expires: string;
}

const HANDLE = /^([A-Za-z0-9_-]{1,700})\.([A-Za-z0-9_-]{22})$/;

function hashOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url').slice(0, 22);
}

/** The opaque handle of a session: `base64url(subject).hash(id)`; resolvable by any instance. */
export function handleOf(subject: string, sessionId: string): string {
  return `${Buffer.from(subject).toString('base64url')}.${hashOf(sessionId)}`;
}

function needSessions(rt: SessionRuntime | undefined): SessionRuntime {
  if (rt === undefined) throw new GatehouseError('GH_ADMIN_UNAVAILABLE', 'no `session` is configured');
  return rt;
}

/** The live sessions of `subject` (from the store's per-user index: every instance's, with Redis). */
async function liveOf(rt: SessionRuntime, subject: string): Promise<[string, SessionRecord][]> {
  const ids = (await rt.store.members(`sub:${subject}`)).filter((id) => !id.startsWith('t:'));
  const now = Date.now();
  const out: [string, SessionRecord][] = [];
  for (const id of ids) {
    const rec = (await rt.store.get(id)) as SessionRecord | undefined;
    if (rec !== undefined && rec.p?.subject === subject && rec.x > now) out.push([id, rec]);
  }
  return out.sort((a, b) => b[1].c - a[1].c);
}

/** `GET /api/sessions?user=SUBJECT`. */
export async function listSessions(rt: SessionRuntime | undefined, subject: string): Promise<SessionJson[]> {
  const live = await liveOf(needSessions(rt), subject);
  return live.map(([id, r]) => ({
    id: handleOf(subject, id),
    user: subject,
    name: r.p.email ?? r.p.name ?? null,
    login: r.ln ?? null,
    created: new Date(r.c).toISOString(),
    last_seen: new Date(r.s).toISOString(),
    expires: new Date(r.x).toISOString(),
  }));
}

/** `DELETE /api/sessions/:handle`: ends that session everywhere; the subject it belonged to. */
export async function revokeSession(rt: SessionRuntime | undefined, handle: string): Promise<string> {
  const m = HANDLE.exec(handle);
  if (m === null) throw new GatehouseError('GH_ADMIN_BAD_REQUEST', 'not a session handle');
  const subject = Buffer.from(m[1] as string, 'base64url').toString('utf8');
  const r = needSessions(rt);
  const hit = (await liveOf(r, subject)).find(([id]) => hashOf(id) === m[2]);
  if (hit === undefined) throw new GatehouseError('GH_ADMIN_NOT_FOUND', 'no live session with this handle');
  await r.sessions.destroy(hit[0], 'logout');
  return subject;
}

/** `DELETE /api/sessions?user=SUBJECT`: ends every session of the user (across instances on Redis). */
export async function revokeUser(rt: SessionRuntime | undefined, subject: string): Promise<number> {
  const r = needSessions(rt);
  const live = await liveOf(r, subject);
  for (const [id] of live) await r.sessions.destroy(id, 'logout');
  await r.store.deleteByIndex(`sub:${subject}`);
  return live.length;
}
