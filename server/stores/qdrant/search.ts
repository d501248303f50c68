import type { Schemas } from '@qdrant/js-client-rest';
import { fuseScores } from '../../fusion/score-fusion.js';
import type { FusionWeights } from '../vector-store.js';
import { VECTOR_PROFILES, type VectorProfile } from './layout.js';

/** Sent with every dense query: the profile's beam, and int8 candidates re-scored on the float vectors. */
export function searchParams(profile: VectorProfile): Schemas['SearchParams'] {
  const p = VECTOR_PROFILES[profile];
  return { hnsw_ef: p.hnsw_ef, ...(p.int8 ? { quantization: { rescore: true, oversampling: 2 } } : {}) };
}

/** A hybrid result before its payload is checked: the fused score and each side's own. */
export interface FusedHit {
  id: string;
  payload: unknown;
  dense: number | null;
  keyword: number | null;
  fused: number;
}

/**
 * The two sides of one `/points/query/batch`, fused by the normalised score
 * fusion the embedded store uses (fusion/score-fusion.ts), best first, cut to
 * `limit`.
 */
export function fuseSides(
  denseSide: Schemas['QueryResponse'] | undefined,
  keywordSide: Schemas['QueryResponse'] | undefined,
  weights: FusionWeights,
  limit: number,
): FusedHit[] {
  const hits = (res: Schemas['QueryResponse'] | undefined) => (res?.points ?? []).map((p) => ({ id: String(p.id), score: p.score, payload: p.payload }));
  const denseList = hits(denseSide);
  const keywordList = hits(keywordSide);
  const fused = fuseScores(denseList, keywordList, weights);
  const payloadOf = new Map([...keywordList, ...denseList].map((h) => [h.id, h.payload]));
  const denseBy = new Map(denseList.map((h) => [h.id, h.score]));
  const keywordBy = new Map(keywordList.map((h) => [h.id, h.score]));
  // Equal fused scores go to the higher cosine, then to the smaller id, as in the embedded store.
  return [...fused.entries()]
    .sort((a, b) => b[1] - a[1] || (denseBy.get(b[0]) ?? -2) - (denseBy.get(a[0]) ?? -2) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([id, score]) => ({
      id,
      payload: payloadOf.get(id),
      dense: denseBy.get(id) ?? null,
      keyword: keywordBy.get(id) ?? null,
      fused: score,
    }));
}
