import { tokenize } from '../text/tokenize.js';
import { queryTerms } from '../text/query-terms.js';

export const CONFIDENCE_WEIGHTS = { similarity: 0.7, diversity: 0.2, coverage: 0.1 } as const;
/** When an answer cites nothing, judge it by the sources it most likely drew on. */
export const UNCITED_TOP_SOURCES = 3;

export interface ConfidenceSource {
  file_path: string;
  content: string;
  /** Absolute relevance to the question in 0..1 (see RetrievedSource.relevance). */
  relevance: number;
}

export interface ConfidenceParts {
  similarity: number;
  diversity: number;
  coverage: number;
  confidence: number;
}

/** Clamps to 0..1; NaN and infinities count as 0. */
export function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/**
 * An answer's confidence (README "How it works", Answers):
 *
 *   confidence = similarity × 0.7 + diversity × 0.2 + coverage × 0.1, clamped to 0..1
 *
 * over the sources *used*: those the answer cites, or the top three retrieved
 * when it cites none.
 * - similarity: the mean relevance (0..1) of the used sources; relevance is
 *   absolute (cosine to the question, or term share for keyword-only hits), so
 *   weak matches give low confidence even when they are the best there is.
 * - diversity: distinct files among the used sources ÷ used sources; an answer
 *   resting on several documents is less likely to repeat one document's error.
 * - coverage: the share of the question's terms (stopwords dropped) found in the
 *   used sources' text; a term nobody mentions is a part left unanswered.
 * No sources at all → 0.
 */
export function computeConfidence(question: string, used: ConfidenceSource[]): ConfidenceParts {
  if (used.length === 0) return { similarity: 0, diversity: 0, coverage: 0, confidence: 0 };
  const similarity = clamp01(used.reduce((sum, s) => sum + clamp01(s.relevance), 0) / used.length);
  const diversity = clamp01(new Set(used.map((s) => s.file_path)).size / used.length);
  const terms = queryTerms(question);
  let coverage = 0;
  if (terms.length > 0) {
    const words = new Set(used.flatMap((s) => tokenize(s.content)));
    coverage = terms.filter((t) => words.has(t)).length / terms.length;
  }
  const w = CONFIDENCE_WEIGHTS;
  const confidence = clamp01(similarity * w.similarity + diversity * w.diversity + coverage * w.coverage);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { similarity: round(similarity), diversity: round(diversity), coverage: round(coverage), confidence: round(confidence) };
}

/** The used sources: cited ones in citation order, else the top retrieved. */
export function usedSources<T>(sources: T[], citedIndexes: number[], indexOf: (s: T) => number): T[] {
  const cited = new Set(citedIndexes);
  const used = sources.filter((s) => cited.has(indexOf(s)));
  return used.length > 0 ? used : sources.slice(0, UNCITED_TOP_SOURCES);
}
