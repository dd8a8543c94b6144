import type { Logger } from 'pino';
import { MemorySessionStore } from './memory-store.js';
import { RedisSessionStore } from './redis-store.js';
import type { SessionStore, SessionStoreConfig } from './store.js';

/** Builds the configured session store. */
export function createSessionStore(cfg: SessionStoreConfig, logger: Logger): SessionStore {
  if (cfg.store === 'redis') return new RedisSessionStore(cfg, logger);
  return new MemorySessionStore(cfg);
}
