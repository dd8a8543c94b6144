import { gatehouseTwoWorkers, nginxTwoWorkers } from './cand-cluster.js';
import type { Candidate } from './candidate.js';
import type { FloorSpec } from './floors.js';
import {
  gatehouseCluster,
  gatehousePlain,
  gatehousePost,
  gatehousePostStream,
  nginxReference,
  nginxSelfTest,
} from './cand-core.js';
import { bearerCandidates } from './cand-bearer.js';
import { sessionMemory, sessionRedis, sessionSsoRedis } from './cand-session.js';
import { assertion, authBare, easyAuth } from './cand-identity.js';
import { naiveNode, nodePipe, rawAll, rawClient } from './cand-baselines.js';
import { cached, limitMemory, limitRedis, quotaMemory } from './cand-limits.js';
import { gatehouseFarm, nginxFarm } from './cand-farm.js';
import { gatehouseTls, nginxTls, nodePipeTls } from './cand-tls.js';
import { haproxyJwtEs256, haproxyJwtRs256, haproxyPlain } from './cand-haproxy.js';
import { gatehousePlainTraced } from './cand-tracing.js';
import { kerberosWarm } from './cand-kerberos.js';
import { gatehousePlainAdmin } from './cand-admin.js';

/**
 * Issue 19 item 3: p99 at most 2.5 × p50 on every Gatehouse row. Added here, once, to every row
 * whose id starts with `gh-` (the C peers and nginx are references, not subjects).
 */
const TAIL_19: FloorSpec = { kind: 'tail', max: 2.5, source: 'issue 19' };

function withTailFloor(c: Candidate): Candidate {
  return c.id.startsWith('gh-') ? { ...c, floors: [...c.floors, TAIL_19] } : c;
}

function bearer(id: string): Candidate {
  const c = bearerCandidates.find((b) => b.id === id);
  if (!c) throw new Error(`bench: no bearer candidate ${id}`);
  return c;
}

/**
 * Every candidate, in the order they are interleaved each round. The nginx reference comes
 * first; rows compared with a baseline (`relativeTo`, or a floor's own `to`) run close to it,
 * so that the pairing per round (interpolated to the moment each run happened) stays tight.
 *
 * Extension point: a new candidate is a {@link Candidate} appended here. Candidates whose
 * feature has not landed yet fail their config validation or correctness gate and are listed
 * as SKIPPED/FAILED with the reason, without stopping the run.
 */
export const CANDIDATES: readonly Candidate[] = [
  nginxReference,
  nginxSelfTest,
  naiveNode,
  nodePipe,
  rawClient,
  rawAll,
  haproxyPlain,
  gatehousePlain,
  gatehousePlainTraced,
  gatehousePlainAdmin,
  gatehousePost,
  gatehousePostStream,
  gatehouseCluster,
  nginxTwoWorkers,
  gatehouseTwoWorkers,
  nginxFarm,
  gatehouseFarm,
  nginxTls,
  nodePipeTls,
  gatehouseTls,
  limitMemory,
  quotaMemory,
  limitRedis,
  cached,
  // Identity rows just before and after their baseline gh-auth-bare; each haproxy jwt_verify
  // peer between the warm and the cold Gatehouse row of its algorithm.
  assertion,
  easyAuth,
  authBare,
  bearer('gh-rs256-warm'),
  haproxyJwtRs256,
  bearer('gh-rs256-cold'),
  bearer('gh-es256-warm'),
  haproxyJwtEs256,
  bearer('gh-es256-cold'),
  // Browser sessions (issue 13): a warm session cookie, next to the bearer rows.
  sessionMemory,
  sessionRedis,
  sessionSsoRedis,
  // Kerberos constrained delegation to a Windows-authentication upstream (issue 17), after its baseline.
  kerberosWarm,
].map(withTailFloor);

/** Candidates selected by BENCH_ONLY (substring match on the id); the reference always runs. */
export function selectCandidates(only: readonly string[]): Candidate[] {
  return CANDIDATES.filter((c) => {
    if (c.id === 'nginx') return true;
    if (only.length === 0) return !c.optIn;
    return only.some((o) => (c.optIn ? c.id === o : c.id.includes(o)));
  });
}
