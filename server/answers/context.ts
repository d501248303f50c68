import type { AnswerSource, ContentType, SearchResult } from '../../shared/api-types.js';
import { tokenize } from '../text/tokenize.js';
import { queryTerms } from '../text/query-terms.js';
import type { ContextBlock } from './chat-model.js';
import { clamp01 } from './confidence.js';

/**
 * The system prompt of every Claude answer (README "How it works", Answers):
 * answer only from the provided context, cite every claim, say plainly what
 * the library lacks, so an answer never passes off general knowledge as the team's.
 */
export const OUTPUT_SYSTEM_PROMPT = `You answer questions for a software team using the team's shared knowledge library.

Rules:
- Use ONLY the search results provided with the question, and earlier turns of this conversation. Do not add facts from general knowledge, even when you are confident.
- Cite your sources. After each statement drawn from a search result, cite it as [source: path/to/file.md], using the path from the result's title.
- Be honest about gaps. If the search results do not answer the question, or answer only part of it, say so plainly (for example "The library has nothing on this.") and name what is missing instead of guessing.
- Keep answers short and practical: steps, commands and code exactly as the library gives them, in Markdown.`;

const SNIPPET_CHARS = 240;
/** Paragraphs shorter than this (headings, list lead-ins) ride with the next one. */
const MIN_PARAGRAPH_CHARS = 60;

/** A retrieved chunk with what the answer flow needs beyond the public AnswerSource. */
export interface RetrievedSource {
  source: AnswerSource;
  content: string;
  content_type: ContentType;
  /**
   * Absolute relevance in 0..1 (unlike `score`, which is relative to the best
   * candidate): the dense cosine when the vector side found the chunk, else the
   * share of the question's terms the chunk contains.
   */
  relevance: number;
  /** Retrieval's evidence for this chunk (null: that side did not find it), to tell a well-matched passage. */
  signals: { dense: number | null; keyword: number | null };
}

export function snippet(text: string, max = SNIPPET_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

export function termOverlap(question: string, text: string): number {
  const terms = queryTerms(question);
  if (terms.length === 0) return 0;
  const words = new Set(tokenize(text));
  return terms.filter((t) => words.has(t)).length / terms.length;
}

export function toRetrievedSources(question: string, results: SearchResult[]): RetrievedSource[] {
  return results.map((r, i) => ({
    source: {
      index: i + 1,
      id: r.id,
      file_path: r.file_path,
      section: r.section,
      start_line: r.start_line,
      end_line: r.end_line,
      score: r.score,
      snippet: snippet(r.content),
      taxonomy: r.taxonomy,
    },
    content: r.content,
    content_type: r.content_type,
    relevance: clamp01(r.scores.dense ?? termOverlap(question, `${r.section}\n${r.content}`)),
    signals: { dense: r.scores.dense, keyword: r.scores.keyword },
  }));
}

/** `docs/api.md (Section: Authentication)`: how a source is named to the model and in extractive answers. */
export function sourceTitle(s: Pick<AnswerSource, 'file_path' | 'section'>): string {
  return s.section ? `${s.file_path} (Section: ${s.section})` : s.file_path;
}

/** The id a model echoes back in citations; line-precise so two chunks of one file differ. */
export function sourceId(s: Pick<AnswerSource, 'file_path' | 'start_line' | 'end_line'>): string {
  return `${s.file_path}#L${s.start_line}-L${s.end_line}`;
}

/**
 * The retrieved chunks as one context block, numbered so a `[n]` marker in
 * the answer names its source:
 *
 *   [1] Source: docs/api.md (Section: Authentication)
 *   Learn how to authenticate...
 *
 *   ---
 *
 *   [2] Source: ...
 */
export function formatContext(sources: RetrievedSource[]): string {
  return sources.map((s) => `[${s.source.index}] Source: ${sourceTitle(s.source)}\n${s.content.trim()}`).join('\n\n---\n\n');
}

/**
 * Splits a chunk at blank lines (never inside a code fence) and keeps each
 * paragraph's line range, so a citation of paragraphs maps back to lines.
 */
export function splitParagraphs(content: string, firstLine: number): ContextBlock['paragraphs'] {
  const lines = content.split('\n');
  const raw: ContextBlock['paragraphs'] = [];
  let buf: string[] = [];
  let start = firstLine;
  let inFence = false;
  const flush = (endLine: number) => {
    const text = buf.join('\n').trim();
    if (text) raw.push({ text, start_line: start, end_line: endLine });
    buf = [];
  };
  lines.forEach((line, i) => {
    const lineNo = firstLine + i;
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (!inFence && line.trim() === '') {
      flush(lineNo - 1);
      start = lineNo + 1;
      return;
    }
    if (buf.length === 0) start = lineNo;
    buf.push(line);
  });
  flush(firstLine + lines.length - 1);
  const merged: ContextBlock['paragraphs'] = [];
  let carry: ContextBlock['paragraphs'][number] | null = null;
  for (const p of raw) {
    const joined: ContextBlock['paragraphs'][number] = carry ? { text: `${carry.text}\n\n${p.text}`, start_line: carry.start_line, end_line: p.end_line } : p;
    if (joined.text.length < MIN_PARAGRAPH_CHARS) {
      carry = joined;
    } else {
      merged.push(joined);
      carry = null;
    }
  }
  if (carry) {
    const last = merged.pop();
    merged.push(last ? { text: `${last.text}\n\n${carry.text}`, start_line: last.start_line, end_line: carry.end_line } : carry);
  }
  return merged.length > 0 ? merged : [{ text: content.trim() || '(empty)', start_line: firstLine, end_line: firstLine + lines.length - 1 }];
}

/** The augment step for models with native citations: one search_result block per source. */
export function toContextBlocks(sources: RetrievedSource[]): ContextBlock[] {
  return sources.map((s) => ({
    source: sourceId(s.source),
    title: sourceTitle(s.source),
    paragraphs: splitParagraphs(s.content, s.source.start_line),
  }));
}

/**
 * The text after the search results: the numbered source list lets a model
 * that writes `[n]` or `[source: path]` markers be mapped back even without
 * native citations.
 */
export function buildQuestionPrompt(question: string, sources: RetrievedSource[], searchedFor?: string): string {
  // A follow-up was searched with its conversation's topic: saying so explains results the question alone does not name.
  const searched = searchedFor ? ` (searched for: ${searchedFor})` : '';
  if (sources.length === 0) {
    return `The library search found nothing for this question${searched}.\n\nQuestion: ${question}`;
  }
  const list = sources.map((s) => `[${s.source.index}] Source: ${sourceTitle(s.source)}`).join('\n');
  return `The search results above come from the library${searched}, in this order:\n${list}\n\nQuestion: ${question}`;
}
