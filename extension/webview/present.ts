/**
 * What a turn shows beside its answer, as plain data: the sources grouped by
 * file with a relevance word (never a raw score), whether they backed the
 * answer at all, the confidence word, and the extractive note split off the
 * answer so it is said once. Pure, so the rules are unit-tested without a DOM.
 */
import type { AnswerMode, AnswerSource, Citation } from '../../shared/api-types.js';

export type Level = 'high' | 'medium' | 'low';

export interface SourceRange {
  index: number;
  start_line: number;
  end_line: number;
  section: string;
  snippet: string;
  relevance: Level;
}

export interface SourceGroup {
  file_path: string;
  ranges: SourceRange[];
}

export interface SourcesView {
  /** "10 sources from 4 files", or the low-match wording when nothing backed the answer. */
  summary: string;
  /** The answer found nothing: the sources are the closest passages, not its support. */
  lowMatch: boolean;
  groups: SourceGroup[];
}

/**
 * Fused scores are relative to the best candidate of one search (README, "Search"), so a
 * source is judged against the best source of its own answer, not by an absolute number.
 */
export function relevanceOf(score: number, best: number): Level {
  if (!(best > 0)) return 'low';
  const share = score / best;
  if (share >= 0.75) return 'high';
  if (share >= 0.4) return 'medium';
  return 'low';
}

/** What the server says when no passage matched (server/answers/extractive.ts NOTHING_FOUND and the prompt's wording). */
const NOTHING_MATCHED = /\bthe library has nothing on this\b|\bno indexed passage matches\b/i;

export interface TurnFacts {
  answer: string;
  sources: AnswerSource[];
  citations: Citation[];
  status: 'streaming' | 'done' | 'error' | 'stopped';
}

/** The answer says nothing matched, or finished without citing any source. */
export function foundNothing(turn: TurnFacts): boolean {
  if (NOTHING_MATCHED.test(turn.answer)) return true;
  return turn.status === 'done' && turn.sources.length > 0 && turn.citations.length === 0;
}

export function lineLabel(start: number, end: number): string {
  if (start <= 0) return 'whole file';
  return end > start ? `lines ${start}–${end}` : `line ${start}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function presentSources(turn: TurnFacts): SourcesView {
  const best = Math.max(0, ...turn.sources.map((s) => s.score));
  const groups: SourceGroup[] = [];
  const byFile = new Map<string, SourceGroup>();
  for (const s of turn.sources) {
    let group = byFile.get(s.file_path);
    if (!group) {
      group = { file_path: s.file_path, ranges: [] };
      byFile.set(s.file_path, group);
      groups.push(group);
    }
    group.ranges.push({ index: s.index, start_line: s.start_line, end_line: s.end_line, section: s.section, snippet: s.snippet, relevance: relevanceOf(s.score, best) });
  }
  for (const g of groups) g.ranges.sort((a, b) => a.start_line - b.start_line);
  const lowMatch = turn.sources.length > 0 && foundNothing(turn);
  const files = plural(groups.length, 'file');
  const summary = lowMatch
    ? `Closest passages, low match: ${plural(turn.sources.length, 'passage')} from ${files}`
    : `${plural(turn.sources.length, 'source')} from ${files}`;
  return { summary, lowMatch, groups };
}

/** Confidence is 0..1 from the server (server/answers/confidence.ts). */
export function confidenceLevel(confidence: number): Level {
  if (confidence >= 0.7) return 'high';
  if (confidence >= 0.4) return 'medium';
  return 'low';
}

/** Which model answered; an extractive answer's banner already says "extractive", so this does not repeat it. */
export function answeredBy(mode: AnswerMode | null, model: string | null): string | null {
  if (mode === 'claude') return model ? `Answered by Claude (${model})` : 'Answered by Claude';
  if (mode === 'extractive') return 'Quoted from the library, no model';
  return null;
}

/** The server starts an extractive answer with its own note (server/answers/extractive.ts); the banner says it instead. */
const EXTRACTIVE_LEAD = /^\s*Extractive answer \([^\n]*\)[^\n]*(?:\n\s*\n|$)/;

export function splitExtractiveNote(answer: string): { note: string | null; body: string } {
  const m = EXTRACTIVE_LEAD.exec(answer);
  if (!m) return { note: null, body: answer };
  return { note: m[0].trim(), body: answer.slice(m[0].length) };
}

/** A path split after its separators, so it can wrap there and not mid-word. */
export function pathSegments(path: string): string[] {
  return path.split(/(?<=[/\\])/);
}
