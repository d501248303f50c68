import type { Citation } from '../../shared/api-types.js';
import type { RetrievedSource } from './context.js';
import { has, lemma, lemmas, topicTerms } from './terms.js';

export const EXTRACTIVE_NOTE = 'Extractive answer (no Anthropic API key configured): the most relevant passages from the library, quoted.';
/** Said instead of EXTRACTIVE_NOTE when a key is there but Claude cannot be reached (or its circuit is open). */
export function claudeUnavailableNote(reason: string): string {
  return `Extractive answer (Claude is unavailable: ${reason}): the most relevant passages from the library, quoted.`;
}
export const NOTHING_FOUND =
  'The library has nothing on this: no indexed passage matches the question. Try other words, or add a document about it to the library.';

/** Enough to answer most questions; more and the reader is better off opening the sources. */
const MAX_UNITS = 4;
/** With a single matching document, a second unit of it is still worth quoting. */
const MIN_UNITS = 2;
/** The best passage may give this many units (a lead sentence and its command, say) before other documents get one each. */
const TOP_PASSAGE_UNITS = 2;
const MIN_UNIT_CHARS = 20;
const MAX_UNIT_CHARS = 400;
/** Longer code blocks are programs, not commands: the reader opens the source for those. */
const MAX_CODE_LINES = 12;
/** A unit (with its headings) must share this share of the question's terms, and one itself, to be quoted. */
const MIN_TERM_SHARE = 0.5;
/** A term found only in the chunk's heading path counts this much: the sentence is about it, without naming it. */
const SECTION_MATCH_WEIGHT = 0.5;
/**
 * A term found only in a unit's code counts this much: a command names what it
 * acts on (`token -- rotate`), but a word inside sample data is weaker
 * evidence than the sentence saying it. A code comment is not code here: it
 * is the author's prose about the line (see codeCaption).
 */
const CODE_MATCH_WEIGHT = 0.5;
/**
 * How much the passage's rank adds, as 1/rank: retrieval already weighed
 * phrases, headings and vectors, so of two equally worded sentences the one
 * from the better passage wins, and the top passage's lead beats a stray
 * mention further down.
 */
const RANK_WEIGHT = 0.3;
/** How much the conversation's earlier terms add to a follow-up's units: they disambiguate, the question decides. */
const CONTEXT_WEIGHT = 0.2;
/** Units scoring below this share of the best one are left out rather than padding the answer. */
const RELATIVE_CUTOFF = 0.7;

export interface ExtractiveAnswer {
  answer: string;
  citations: Citation[];
  /** True when no passage matched and the answer says so. */
  empty: boolean;
}

/** A fenced code block kept whole, as the library wrote it. */
interface CodeBlock {
  fence: string;
  lines: string[];
}

/** A quotable piece of a chunk: a sentence, a sentence with the command it introduces, or a command alone. */
export interface Unit {
  /** The prose (empty for a code block without a lead-in). */
  text: string;
  code: CodeBlock | null;
  /** The nearest heading inside the chunk above the unit ('' when none): part of what the unit is about. */
  heading: string;
  start_line: number;
  end_line: number;
  /** Position within its chunk, to keep document order. */
  order: number;
}

interface Scored extends Unit {
  source: RetrievedSource;
  score: number;
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

/** `text` cut to MAX_UNIT_CHARS. */
function clip(text: string): string {
  return text.length > MAX_UNIT_CHARS ? `${text.slice(0, MAX_UNIT_CHARS - 1).trimEnd()}…` : text;
}

/**
 * Quotable units of a Markdown or text chunk: sentences of paragraphs and list
 * items, each with its line range. A fenced code block of a few lines stays
 * whole: attached to the sentence that introduces it ("…one per person:"), or
 * a unit of its own. So does a list: its items are quoted with the sentence
 * that introduces it ("Run `npm run index -- --all` after you:"), which alone
 * says what to do but not when. Tables, headings and front matter are not quoted.
 */
export function answerUnits(content: string, firstLine: number): Unit[] {
  const lines = content.split('\n');
  const units: Unit[] = [];
  let para: { text: string[]; start: number; end: number; item: boolean } | null = null;
  let fence: { marker: string; info: string; lines: string[]; start: number } | null = null;
  let inFront = lines[0]?.trim() === '---';
  let heading = '';
  // The last unit, while nothing but blank lines followed it: a block after it is what it introduces.
  let lead: Unit | null = null;
  // The unit whose sentence, ending in ':', introduces the list being read: its items are added to it.
  let list: Unit | null = null;
  // Read through a function, so that the type checker does not hold `lead` to the null the line handler
  // below sets before it calls flush, which sets it again.
  const lastUnit = (): Unit | null => lead;
  const flush = () => {
    if (!para) return;
    lead = null;
    const text = plain(para.text.join(' '));
    if (para.item && list) {
      list.text = clip(`${list.text} ${text}`);
      list.end_line = para.end;
      para = null;
      return;
    }
    const sentences = text.split(/(?<=[.!?])\s+(?=[A-Z0-9`*_"'(\[])/);
    for (const s of sentences) {
      const t = s.trim();
      if (t.length < MIN_UNIT_CHARS || !/\p{L}/u.test(t)) continue;
      lead = { text: clip(t), code: null, heading, start_line: para.start, end_line: para.end, order: units.length };
      units.push(lead);
    }
    para = null;
  };
  const closeFence = (open: NonNullable<typeof fence>, endLine: number) => {
    const body = open.lines;
    if (body.length === 0 || body.length > MAX_CODE_LINES || !body.some((l) => /\p{L}/u.test(l))) return;
    const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => /^\s*/.exec(l)?.[0].length ?? 0));
    const code: CodeBlock = { fence: `${open.marker}${open.info}`, lines: body.map((l) => l.slice(indent)) };
    const introducer: Unit | null = lead;
    if (introducer && introducer.text.endsWith(':') && introducer.code === null) {
      introducer.code = code;
      introducer.end_line = endLine;
    } else {
      units.push({ text: '', code, heading, start_line: open.start, end_line: endLine, order: units.length });
    }
  };
  lines.forEach((line, i) => {
    const lineNo = firstLine + i;
    const trimmed = line.trim();
    if (inFront) {
      if (i > 0 && trimmed === '---') inFront = false;
      return;
    }
    const marker = /^(```|~~~)(.*)$/.exec(trimmed);
    if (fence) {
      if (marker && marker[1] === fence.marker && (marker[2] ?? '').trim() === '') {
        closeFence(fence, lineNo);
        fence = null;
        lead = null;
      } else {
        fence.lines.push(line.replace(/\s+$/, ''));
      }
      return;
    }
    if (marker) {
      flush();
      list = null;
      fence = { marker: marker[1] ?? '```', info: (marker[2] ?? '').trim(), lines: [], start: lineNo };
      return;
    }
    if (trimmed === '') {
      flush();
      return;
    }
    // The last unit, if only blank lines came between it and this line: what a list starting here follows.
    const before = lastUnit();
    lead = null;
    const title = /^#{1,6}\s+(.*)$/.exec(trimmed);
    if (title) {
      flush();
      lead = null;
      list = null;
      heading = plain(title[1] ?? '');
      return;
    }
    if (trimmed.startsWith('|') || /^[-*_]{3,}$/.test(trimmed)) {
      flush();
      lead = null;
      list = null;
      return;
    }
    const item = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (item) {
      flush();
      // A paragraph ending on the line above was flushed just now; one that ended before a blank line, earlier.
      const introducer = lastUnit() ?? before;
      if (list === null && introducer !== null && introducer.text.endsWith(':') && introducer.code === null) list = introducer;
      lead = null;
      para = { text: [item[3] ?? ''], start: lineNo, end: lineNo, item: true };
      return;
    }
    if (para) {
      para.text.push(trimmed.replace(/^>\s?/, ''));
      para.end = lineNo;
    } else {
      list = null;
      para = { text: [trimmed.replace(/^>\s?/, '')], start: lineNo, end: lineNo, item: false };
    }
  });
  flush();
  return units;
}

/**
 * A unit's code, for matching, without its string literals and comments: a
 * sample query in a curl command ("How long are backups kept?") is not what
 * the command does, and comments count as prose.
 */
function codeText(u: Unit): string {
  return u.code ? u.code.lines.map((l) => l.replace(COMMENT, '')).join('\n').replace(/"[^"\n]*"|'[^'\n]*'/g, ' ') : '';
}

/**
 * A shell, YAML or C-family line comment: `#` or `//` at the start of a line
 * or after a space, then a space (so `http://host/#anchor` is not one).
 */
const COMMENT = /(?:^|\s)(?:#|\/\/)\s(.*)$/;

/**
 * The comments of a unit's code: the author's caption of each line
 * (`npm run index -- --all  # the whole library`), prose about what the
 * command does, so they count as the sentence saying it.
 */
function codeCaption(u: Unit): string {
  return u.code ? u.code.lines.map((l) => COMMENT.exec(l)?.[1] ?? '').filter((c) => c !== '').join('\n') : '';
}

/** The block's lines with its opening fence (and info string) and closing fence. */
function fenced(code: CodeBlock): string[] {
  return [code.fence, ...code.lines, code.fence.replace(/[^`~].*$/, '')];
}

/** The unit as quoted in the answer: a list item, its code block indented under it. */
function render(u: Unit, marker: string, section: string): string {
  const lead = u.text || `${u.heading || section.split(' > ').at(-1) || 'From the source'}:`;
  if (!u.code) return `- ${lead} ${marker}`;
  return `- ${lead} ${marker}\n\n${fenced(u.code)
    .map((l) => (l ? `  ${l}` : l))
    .join('\n')}\n`;
}

function citedText(u: Unit): string {
  if (!u.code) return u.text;
  const block = fenced(u.code).join('\n');
  return u.text ? `${u.text}\n${block}` : block;
}

/**
 * Whether retrieval's signals agree on the top passage: first overall, and no
 * other passage scores higher by keywords or by vector. Then it matched well
 * even when the question's other words are not in the library (a synonym,
 * "throttled" for "429 Too Many Requests"), and one shared term is enough to
 * quote it.
 */
export function agreedTop(sources: RetrievedSource[]): RetrievedSource | null {
  const top = sources[0];
  if (!top || top.signals.keyword === null || top.signals.dense === null) return null;
  const { keyword, dense } = top.signals;
  const beaten = sources.some((s) => s !== top && ((s.signals.keyword ?? -Infinity) > keyword || (s.signals.dense ?? -Infinity) > dense));
  return beaten ? null : top;
}

/**
 * Extractive mode: quotes the units that best match the question, scored by
 * the share of its terms they (and their headings) contain plus their
 * passage's rank. The best passage gives up to two units (a sentence and its
 * command), then other documents one each, listed in retrieval order then
 * document order, each followed by its `[n]` marker. `context` holds terms of
 * the conversation so far (a follow-up's topic); they break ties, never
 * qualify a unit on their own.
 */
export function extractiveAnswer(question: string, sources: RetrievedSource[], note: string = EXTRACTIVE_NOTE, context: string[] = []): ExtractiveAnswer {
  const terms = topicTerms(question);
  const contextTerms = [...new Set(context.map((t) => lemma(t.toLowerCase())))].filter((t) => !terms.includes(t));
  const needed = Math.max(1, Math.ceil(terms.length * MIN_TERM_SHARE));
  const strong = agreedTop(sources);
  let candidates: Scored[] = [];
  if (terms.length > 0) {
    sources.forEach((source, rank) => {
      if (source.content_type === 'code') return;
      for (const unit of answerUnits(source.content, source.source.start_line)) {
        const section = lemmas(`${source.source.section}\n${unit.heading}`);
        const prose = lemmas(`${unit.text}\n${codeCaption(unit)}`);
        const code = lemmas(codeText(unit));
        const inProse = terms.filter((t) => has(prose, t)).length;
        const inCodeOnly = terms.filter((t) => !has(prose, t) && has(code, t)).length;
        const inSectionOnly = terms.filter((t) => !has(prose, t) && !has(code, t) && has(section, t)).length;
        const enough = source === strong ? 1 : needed;
        if (inProse + inCodeOnly === 0 || inProse + inCodeOnly + inSectionOnly < enough) continue;
        const share = (inProse + CODE_MATCH_WEIGHT * inCodeOnly + SECTION_MATCH_WEIGHT * inSectionOnly) / terms.length;
        const inContext =
          contextTerms.length === 0 ? 0 : contextTerms.filter((t) => has(prose, t) || has(code, t) || has(section, t)).length / contextTerms.length;
        candidates.push({ ...unit, source, score: share + CONTEXT_WEIGHT * inContext + RANK_WEIGHT / (rank + 1) });
      }
    });
  }
  if (candidates.length === 0) return { answer: `${note}\n\n${NOTHING_FOUND}`, citations: [], empty: true };

  candidates.sort((a, b) => b.score - a.score || a.source.source.index - b.source.source.index || a.order - b.order);
  const best = candidates[0]?.score ?? 0;
  candidates = candidates.filter((c) => c.score >= RELATIVE_CUTOFF * best);
  const picked: Scored[] = [];
  const seenText = new Set<string>();
  const take = (c: Scored) => {
    const key = citedText(c).toLowerCase();
    if (seenText.has(key) || picked.length >= MAX_UNITS) return;
    seenText.add(key);
    picked.push(c);
  };
  const top = candidates[0];
  if (top) for (const c of candidates.filter((c) => c.source === top.source).slice(0, TOP_PASSAGE_UNITS)) take(c);
  const files = new Set(picked.map((c) => c.source.source.file_path));
  for (const c of candidates) {
    if (files.has(c.source.source.file_path)) continue;
    files.add(c.source.source.file_path);
    take(c);
  }
  // One matching document: its next-best unit, so the answer is not a single line out of context.
  for (const c of candidates) if (picked.length < MIN_UNITS && !picked.includes(c)) take(c);

  picked.sort((a, b) => a.source.source.index - b.source.source.index || a.order - b.order);
  const lines = picked.map((c) => render(c, `[${c.source.source.index}]`, c.source.source.section));
  const citations: Citation[] = picked.map((c) => ({
    source_index: c.source.source.index,
    file_path: c.source.source.file_path,
    cited_text: citedText(c),
    start_line: c.start_line,
    end_line: c.end_line,
  }));
  return { answer: `${note}\n\n${lines.join('\n')}`.trimEnd(), citations, empty: false };
}
