import { stemmer } from 'stemmer';
import type { ScoredPoint } from '../stores/vector-store.js';
import { queryTerms } from '../text/query-terms.js';
import { tokenize } from '../text/tokenize.js';

/**
 * The composite re-rank (README "How it works", Search):
 *   score = base + length_bonus + section_bonus + term_overlap + lead_overlap + exact_bonus
 * - base (0..1): the retrieval score normalised by the best candidate's, so modes compare;
 * - length_bonus (≤ 0.05): favours chunks with enough substance over stray headings,
 *   saturating at ~200 tokens;
 * - section_bonus (0.1): a query term appears in the chunk's heading path;
 * - term_overlap (≤ 0.2): the share of the query's distinct terms found in the chunk;
 * - lead_overlap (≤ 1): the share of them found in the lead of the chunk's document
 *   (document-leads.ts), given to the document's best chunk alone: it places the
 *   document, weighed as much as the retrieval score, and its other chunks keep
 *   their own rank (docs/retrieval.md, "The document's lead");
 * - exact_bonus (0.5): the whole query appears verbatim (case-insensitive), so an
 *   identifier or phrase copied from the library always comes back first.
 */
export const RERANK_WEIGHTS = { length: 0.05, section: 0.1, overlap: 0.2, lead: 1, exact: 0.5 } as const;

/** The share of `terms` found in `words`. */
function share(terms: readonly string[], words: ReadonlySet<string>): number {
  return terms.length === 0 ? 0 : terms.filter((t) => words.has(t)).length / terms.length;
}

export interface Ranked {
  point: ScoredPoint;
  score: number;
}

export function rerank(
  query: string,
  candidates: ScoredPoint[],
  base: (p: ScoredPoint) => number,
  leads: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): Ranked[] {
  const best = Math.max(...candidates.map(base), 0);
  const terms = queryTerms(query);
  const phrase = query.trim().toLowerCase();
  const ranked = candidates.map((point) => {
    const content = point.payload.content.toLowerCase();
    const words = new Set(tokenize(point.payload.content));
    const sectionWords = new Set(tokenize(point.payload.section));
    const normalised = best > 0 ? base(point) / best : 0;
    const lengthBonus = RERANK_WEIGHTS.length * Math.min(1, point.payload.content.length / 800);
    const sectionBonus = terms.some((t) => sectionWords.has(t)) ? RERANK_WEIGHTS.section : 0;
    const overlap = share(terms, words);
    const exact = phrase.length >= 3 && content.includes(phrase) ? RERANK_WEIGHTS.exact : 0;
    return { point, score: normalised + lengthBonus + sectionBonus + RERANK_WEIGHTS.overlap * overlap + exact };
  });
  ranked.sort((a, b) => b.score - a.score);
  // Leads hold stemmed words (document-leads.ts).
  const stemmed = terms.map((t) => stemmer(t));
  // A document's lead lifts its best chunk alone: it places the document, and its other chunks keep their own rank.
  const placed = new Set<string>();
  for (const r of ranked) {
    const file = r.point.payload.file_path;
    const lead = leads.get(file);
    if (lead === undefined || placed.has(file)) continue;
    placed.add(file);
    r.score += RERANK_WEIGHTS.lead * share(stemmed, lead);
  }
  return ranked.sort((a, b) => b.score - a.score);
}

/** Keeps the best-scored copy of identical content (by its MD5): a file indexed twice must not fill the results. */
export function dedupeByContent(points: ScoredPoint[]): ScoredPoint[] {
  const seen = new Set<string>();
  const out: ScoredPoint[] = [];
  for (const p of points) {
    if (seen.has(p.payload.content_hash)) continue;
    seen.add(p.payload.content_hash);
    out.push(p);
  }
  return out;
}
