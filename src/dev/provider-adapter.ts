/**
 * The in-memory storage adapter of the embedded development OpenID provider (oidc-provider's
 * adapter interface). One store per provider instance, so several providers in one process
 * (tests) never share state. DEVELOPMENT AND TESTS ONLY: everything is lost on restart.
 */

type Payload = Record<string, unknown>;

interface Entry {
  payload: Payload;
  exp: number;
}

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/** Shared storage behind every model's adapter of one provider. */
export class DevAdapterStore {
  readonly entries = new Map<string, Entry>();
  /** grantId → keys of the tokens issued under it */
  readonly grants = new Map<string, Set<string>>();
  readonly sessionUids = new Map<string, string>();
  readonly userCodes = new Map<string, string>();

  get(key: string): Payload | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.exp <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return structuredClone(e.payload);
  }

  /** Every live payload of `model` (e.g. all provider sessions). */
  all(model: string): Payload[] {
    const out: Payload[] = [];
    for (const key of this.entries.keys()) {
      if (!key.startsWith(`${model}:`)) continue;
      const p = this.get(key);
      if (p !== undefined) out.push(p);
    }
    return out;
  }

  /** The factory oidc-provider's `adapter` option expects. */
  factory(): (model: string) => DevAdapter {
    return (model) => new DevAdapter(model, this);
  }
}

/** oidc-provider adapter for one model name, backed by a {@link DevAdapterStore}. */
export class DevAdapter {
  constructor(
    private readonly model: string,
    private readonly store: DevAdapterStore,
  ) {}

  #key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
    const key = this.#key(id);
    const exp = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    this.store.entries.set(key, { payload: structuredClone(payload), exp });
    if (this.model === 'Session' && typeof payload.uid === 'string')
      this.store.sessionUids.set(payload.uid, id);
    if (typeof payload.userCode === 'string') this.store.userCodes.set(payload.userCode, id);
    if (GRANTABLE.has(this.model) && typeof payload.grantId === 'string') {
      let keys = this.store.grants.get(payload.grantId);
      if (keys === undefined) this.store.grants.set(payload.grantId, (keys = new Set()));
      keys.add(key);
    }
  }

  async find(id: string): Promise<Payload | undefined> {
    return this.store.get(this.#key(id));
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    const id = this.store.sessionUids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    const id = this.store.userCodes.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id: string): Promise<void> {
    const e = this.store.entries.get(this.#key(id));
    if (e !== undefined) e.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    const key = this.#key(id);
    const e = this.store.entries.get(key);
    this.store.entries.delete(key);
    if (e === undefined) return;
    const { uid, grantId } = e.payload;
    if (typeof uid === 'string' && this.store.sessionUids.get(uid) === id) this.store.sessionUids.delete(uid);
    if (typeof grantId === 'string') this.store.grants.get(grantId)?.delete(key);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const keys = this.store.grants.get(grantId);
    if (keys === undefined) return;
    for (const key of keys) this.store.entries.delete(key);
    this.store.grants.delete(grantId);
  }
}
