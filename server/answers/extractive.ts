import type { Citation } from '../../shared/api.js';
import { tokenize } from '../embedders/local.js';
import { queryTerms } from '../retrieval/rerank.js';
import type { RetrievedSource } from './context.js';

export const EXTRACTIVE_NOTE = 'Extractive answer (no Anthropic API key configured): the most relevant passages from the library, quoted.';
/** Said instead of EXTRACTIVE_NOTE when a key is there but Claude cannot be reached (or its circuit is open). */
export function claudeUnavailableNote(reason: string): string {
  return `Extractive answer (Claude is unavailable: ${reason}): the most relevant passages from the library, quoted.`;
}
export const NOTHING_FOUND =
  'The library has nothing on this: no indexed passage matches the question. Try other words, or add a document about it to the library.';

/** Enough to answer most questions; more and the reader is better off opening the sources. */
const MAX_SENTENCES = 4;
/** With a single matching document, a second sentence of it is still worth quoting. */
const MIN_SENTENCES = 2;
const MIN_UNIT_CHARS = 20;
const MAX_UNIT_CHARS = 400;
/** A sentence (with its heading) must share this share of the question's terms, and one itself, to be quoted. */
const MIN_TERM_SHARE = 0.5;
/** A term found only in the chunk's heading path counts this much: the sentence is about it, without naming it. */
const SECTION_MATCH_WEIGHT = 0.5;
/** How much the chunk's search rank adds: retrieval already weighed phrases, headings and vectors. */
const RANK_WEIGHT = 0.3;
/** Sentences scoring below this share of the best one are left out rather than padding the answer. */
const RELATIVE_CUTOFF = 0.7;

export interface ExtractiveAnswer {
  answer: string;
  citations: Citation[];
  /** True when no passage matched and the answer says so. */
  empty: boolean;
}

interface Unit {
  text: string;
  start_line: number;
  end_line: number;
  /** Position within its chunk, to keep document order. */
  order: number;
}

interface Scored extends Unit {
  source: RetrievedSource;
  score: number;
}

/** Irregular forms common in technical prose; regular inflections are handled by suffixes and prefixes. */
const IRREGULAR: Record<string, string> = {
  kept: 'keep', built: 'build', ran: 'run', sent: 'send', made: 'make', found: 'find', wrote: 'write', written: 'write',
  chose: 'choose', chosen: 'choose', held: 'hold', left: 'leave', lost: 'lose', paid: 'pay', got: 'get', gotten: 'get',
  gave: 'give', given: 'give', took: 'take', taken: 'take', went: 'go', gone: 'go', saw: 'see', seen: 'see',
  began: 'begin', begun: 'begin', broke: 'break', broken: 'break', hidden: 'hide', knew: 'know', known: 'know',
  shown: 'show', spent: 'spend', stood: 'stand', told: 'tell', thought: 'think', understood: 'understand', rewritten: 'rewrite',
};

/** A rough lemma: enough for `keeps`/`kept`/`keep` or `retries`/`retry` to meet. */
export function lemma(word: string): string {
  const w = IRREGULAR[word] ?? word;
  if (w.length <= 4) return w;
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.endsWith('ing') && w.length > 5) return w.slice(0, -3);
  if (w.endsWith('ed') && w.length > 4) return w.slice(0, -2);
  if (w.endsWith('es') && /(ss|sh|ch|x|z)es$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

/**
 * Two lemmas match when equal, or when they share a long common prefix
 * (`authenticate`/`authentication`, `config`/`configuration`).
 */
function wordsMatch(a: string, b: string): boolean {
  if (a === b) return true;
  const shorter = Math.min(a.length, b.length);
  if (shorter < 4) return false;
  let i = 0;
  while (i < shorter && a[i] === b[i]) i++;
  return i >= 4 && i >= 0.8 * shorter;
}

function lemmas(text: string): Set<string> {
  return new Set(tokenize(text).map(lemma));
}

function has(words: Set<string>, term: string): boolean {
  if (words.has(term)) return true;
  for (const w of words) if (wordsMatch(term, w)) return true;
  return false;
}

/** Inline Markdown that reads badly out of context; the words stay. */
function plain(text: string): string {
  return text
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Prose units of a Markdown or text chunk: sentences of paragraphs and list
 * items, each with its line range. Code blocks, tables, headings and front
 * matter are not sentences and are left out.
 */
export function sentenceUnits(content: string, firstLine: number): Unit[] {
  const lines = content.split('\n');
  const units: Unit[] = [];
  let para: { text: string[]; start: number; end: number } | null = null;
  let inFence = false;
  let inFront = lines[0]?.trim() === '---';
  const flush = () => {
    if (!para) return;
    const text = plain(para.text.join(' '));
    const sentences = text.split(/(?<=[.!?])\s+(?=[A-Z0-9`*_"'(\[])/);
    for (const s of sentences) {
      const t = s.trim();
      if (t.length < MIN_UNIT_CHARS || !/\p{L}/u.test(t)) continue;
      const clipped = t.length > MAX_UNIT_CHARS ? `${t.slice(0, MAX_UNIT_CHARS - 1).trimEnd()}…` : t;
      units.push({ text: clipped, start_line: para.start, end_line: para.end, order: units.length });
    }
    para = null;
  };
  lines.forEach((line, i) => {
    const lineNo = firstLine + i;
    const trimmed = line.trim();
    if (inFront) {
      if (i > 0 && trimmed === '---') inFront = false;
      return;
    }
    if (/^(```|~~~)/.test(trimmed)) {
      flush();
      inFence = !inFence;
      return;
    }
    if (inFence) return;
    if (trimmed === '' || /^#{1,6}\s/.test(trimmed) || trimmed.startsWith('|') || /^[-*_]{3,}$/.test(trimmed)) {
      flush();
      return;
    }
    const item = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (item) {
      flush();
      para = { text: [item[3] ?? ''], start: lineNo, end: lineNo };
      return;
    }
    if (para) {
      para.text.push(trimmed.replace(/^>\s?/, ''));
      para.end = lineNo;
    } else {
      para = { text: [trimmed.replace(/^>\s?/, '')], start: lineNo, end: lineNo };
    }
  });
  flush();
  return units;
}

/**
 * Extractive mode: quotes the sentences that best match the question, preferring
 * one per document so the answer shows the breadth of what the library says,
 * in retrieval order then document order, each followed by its `[n]` marker.
 */
export function extractiveAnswer(question: string, sources: RetrievedSource[], note: string = EXTRACTIVE_NOTE): ExtractiveAnswer {
  const terms = [...new Set(queryTerms(question).map(lemma))];
  const needed = Math.max(1, Math.ceil(terms.length * MIN_TERM_SHARE));
  const topScore = Math.max(...sources.map((s) => s.source.score), 0);
  let candidates: Scored[] = [];
  if (terms.length > 0) {
    for (const source of sources) {
      if (source.content_type === 'code') continue;
      const section = lemmas(source.source.section);
      const rank = topScore > 0 ? source.source.score / topScore : 0;
      for (const unit of sentenceUnits(source.content, source.source.start_line)) {
        const words = lemmas(unit.text);
        const inSentence = terms.filter((t) => has(words, t)).length;
        const inSectionOnly = terms.filter((t) => !has(words, t) && has(section, t)).length;
        if (inSentence === 0 || inSentence + inSectionOnly < needed) continue;
        const share = (inSentence + SECTION_MATCH_WEIGHT * inSectionOnly) / terms.length;
        candidates.push({ ...unit, source, score: share + RANK_WEIGHT * rank });
      }
    }
  }
  if (candidates.length === 0) return { answer: `${note}\n\n${NOTHING_FOUND}`, citations: [], empty: true };

  candidates.sort((a, b) => b.score - a.score || a.source.source.index - b.source.source.index || a.order - b.order);
  const best = candidates[0]?.score ?? 0;
  candidates = candidates.filter((c) => c.score >= RELATIVE_CUTOFF * best);
  const picked: Scored[] = [];
  const seenText = new Set<string>();
  const take = (c: Scored) => {
    const key = c.text.toLowerCase();
    if (seenText.has(key) || picked.length >= MAX_SENTENCES) return;
    seenText.add(key);
    picked.push(c);
  };
  const files = new Set<string>();
  for (const c of candidates) {
    if (files.has(c.source.source.file_path)) continue;
    files.add(c.source.source.file_path);
    take(c);
  }
  // One matching document: its next-best sentence, so the answer is not a single line out of context.
  for (const c of candidates) if (picked.length < MIN_SENTENCES && !picked.includes(c)) take(c);

  picked.sort((a, b) => a.source.source.index - b.source.source.index || a.order - b.order);
  const lines = picked.map((c) => `- ${c.text} [${c.source.source.index}]`);
  const citations: Citation[] = picked.map((c) => ({
    source_index: c.source.source.index,
    file_path: c.source.source.file_path,
    cited_text: c.text,
    start_line: c.start_line,
    end_line: c.end_line,
  }));
  return { answer: `${note}\n\n${lines.join('\n')}`, citations, empty: false };
}
