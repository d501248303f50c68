import type { FusionWeights } from '../stores/vector-store.js';
import { LOCAL_EMBEDDER_FAMILY } from '../embedders/embedder.js';

/**
 * The weights of the normalised score fusion (fusion/score-fusion.ts). How
 * much the dense side deserves depends on what the embedder knows. The local
 * embedder hashes words and character n-grams: it is lexical, so its
 * ranking mostly repeats BM25's with more noise, and at equal weight that
 * noise outvotes BM25 on the documents only one side found (measured with
 * `npm run eval`, docs/retrieval.md). A semantic model (Mistral, TEI) finds
 * what BM25 cannot and counts as much as BM25.
 */
export const LEXICAL_DENSE_WEIGHT = 0.5;

export function fusionWeights(embedderId: string): FusionWeights {
  const lexical = embedderId.startsWith(LOCAL_EMBEDDER_FAMILY);
  return { dense: lexical ? LEXICAL_DENSE_WEIGHT : 1, keyword: 1 };
}
