import type { Citation } from '../../shared/api-types.js';
import type { ContextBlock, NativeCitation } from './chat-model.js';
import { snippet, sourceId, type RetrievedSource } from './context.js';

function dedupe(citations: Citation[]): Citation[] {
  const seen = new Set<string>();
  return citations.filter((c) => {
    const key = `${c.source_index}\0${c.cited_text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Maps `search_result_location` citations to sources by `search_result_index`
 * (blocks are sent in source order). The echoed `source` is checked too: if
 * the index disagrees with it, the source string wins; if neither matches, the
 * citation is dropped rather than pinned on the wrong document.
 */
export function mapNativeCitations(native: NativeCitation[], blocks: ContextBlock[], sources: RetrievedSource[]): Citation[] {
  const out: Citation[] = [];
  for (const c of native) {
    let i = c.block_index;
    if (blocks[i]?.source !== c.source) {
      const bySource = blocks.findIndex((b) => b.source === c.source);
      if (bySource < 0) continue;
      i = bySource;
    }
    const block = blocks[i];
    const src = sources[i];
    if (!block || !src) continue;
    let start = src.source.start_line;
    let end = src.source.end_line;
    if (c.start_paragraph !== null && c.end_paragraph !== null) {
      const first = block.paragraphs[c.start_paragraph];
      const last = block.paragraphs[Math.max(c.start_paragraph, c.end_paragraph - 1)];
      if (first && last) {
        start = first.start_line;
        end = last.end_line;
      }
    }
    out.push({ source_index: src.source.index, file_path: src.source.file_path, cited_text: c.cited_text, start_line: start, end_line: end });
  }
  return dedupe(out);
}

/** Code may legitimately contain `[0]` or `[source: x]`; only prose markers count. */
function stripCode(text: string): string {
  return (
    text
      .replace(/(```|~~~)[\s\S]*?(\1|$)/g, ' ')
      .replace(/`[^`\n]*`/g, ' ')
      // `[1][2]` is two markers; the space keeps the second from looking like an index.
      .replace(/\](?=\[\d{1,3}\])/g, '] ')
  );
}

function citationOf(s: RetrievedSource): Citation {
  return { source_index: s.source.index, file_path: s.source.file_path, cited_text: snippet(s.content), start_line: s.source.start_line, end_line: s.source.end_line };
}

/**
 * Fallback when the model gave no native citations: reads the markers the
 * system prompt asks for, `[source: path]` (optionally `path#Lx-Ly` or with a
 * section), and the context's `[n]` numbers. The cited text is then the
 * source's snippet, since a marker does not say which words it backs.
 */
export function parseMarkerCitations(text: string, sources: RetrievedSource[]): Citation[] {
  const prose = stripCode(text);
  const out: Citation[] = [];
  for (const m of prose.matchAll(/\[source:\s*([^\]\n]+?)\s*\]/gi)) {
    const ref = (m[1] ?? '').replace(/\s*\(Section:.*\)$/i, '').trim();
    const exact = sources.find((s) => sourceId(s.source) === ref);
    const bare = ref.replace(/#L\d+(-L?\d+)?$/i, '');
    const found = exact ?? sources.find((s) => s.source.file_path === bare);
    if (found) out.push(citationOf(found));
  }
  for (const m of prose.matchAll(/(?<![\w)\]])\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()/g)) {
    for (const n of (m[1] ?? '').split(',')) {
      const found = sources.find((s) => s.source.index === Number(n.trim()));
      if (found) out.push(citationOf(found));
    }
  }
  return dedupe(out);
}

/** Native citations when the model gave any, else the markers in its text. */
export function resolveCitations(text: string, native: NativeCitation[], blocks: ContextBlock[], sources: RetrievedSource[]): Citation[] {
  const mapped = mapNativeCitations(native, blocks, sources);
  return mapped.length > 0 ? mapped : parseMarkerCitations(text, sources);
}
