import { gatehouseTwoWorkers, nginxTwoWorkers } from './cand-cluster.js';
import type { Candidate } from './candidate.js';
import {
  gatehouseCluster,
  gatehousePlain,
  gatehousePost,
  gatehousePostStream,
  nginxReference,
  nginxSelfTest,
} from './cand-core.js';
import { bearerCandidates } from './cand-bearer.js';
import { sessionMemory, sessionRedis } from './cand-session.js';
import { assertion, authBare, easyAuth } from './cand-identity.js';
import { naiveNode, rawAll, rawClient } from './cand-baselines.js';
import { cached, limitMemory, limitRedis, quotaMemory } from './cand-limits.js';
import { gatehouseFarm, nginxFarm } from './cand-farm.js';
import { gatehouseTls, nginxTls } from './cand-tls.js';

/**
 * Every candidate, in the order they are interleaved each round. The nginx reference comes
 * first; rows compared with a Gatehouse baseline (`relativeTo`) follow it closely.
 *
 * Extension point: a new candidate is a {@link Candidate} appended here. Candidates whose
 * feature has not landed yet fail their config validation or correctness gate and are listed
 * as SKIPPED/FAILED with the reason, without stopping the run.
 */
export const CANDIDATES: readonly Candidate[] = [
  nginxReference,
  nginxSelfTest,
  naiveNode,
  rawClient,
  rawAll,
  gatehousePlain,
  gatehousePost,
  gatehousePostStream,
  gatehouseCluster,
  nginxTwoWorkers,
  gatehouseTwoWorkers,
  nginxFarm,
  gatehouseFarm,
  nginxTls,
  gatehouseTls,
  limitMemory,
  quotaMemory,
  limitRedis,
  cached,
  authBare,
  ...bearerCandidates.slice(0, 1),
  assertion,
  easyAuth,
  ...bearerCandidates.slice(1),
  // Browser sessions (issue 13): a warm session cookie, next to the bearer rows.
  sessionMemory,
  sessionRedis,
];

/** Candidates selected by BENCH_ONLY (substring match on the id); the reference always runs. */
export function selectCandidates(only: readonly string[]): Candidate[] {
  return CANDIDATES.filter((c) => {
    if (c.id === 'nginx') return true;
    if (only.length === 0) return !c.optIn;
    return only.some((o) => (c.optIn ? c.id === o : c.id.includes(o)));
  });
}
