import { parseDocument } from 'yaml';
import { isRecord } from '../../shared/guards.js';

export interface FrontMatter {
  data: Record<string, unknown>;
  /** 1-based line where the body starts: 1 without front matter. */
  bodyStartLine: number;
}

const CLOSING = /^(?:---|\.\.\.)[ \t]*$/;

/**
 * A leading `---` … `---` (or `...`) block: its YAML and how many lines it
 * takes. Line endings and a byte-order mark are read the way the chunkers
 * read them, so the body starts on the same line for both.
 */
export function frontMatterBlock(raw: string): { yaml: string; lines: number } | null {
  const text = raw.replace(/\r\n/g, '\n').replace(/^\uFEFF/, '');
  const firstEnd = text.indexOf('\n');
  if (firstEnd === -1 || text.slice(0, firstEnd).trimEnd() !== '---') return null;
  const yamlStart = firstEnd + 1;
  let line = 1;
  for (let start = yamlStart; start <= text.length; line++) {
    const end = text.indexOf('\n', start);
    const stop = end === -1 ? text.length : end;
    if (CLOSING.test(text.slice(start, stop))) return { yaml: text.slice(yamlStart, start), lines: line + 1 };
    if (end === -1) break;
    start = end + 1;
  }
  return null;
}

/**
 * Leading YAML front matter (`category:`, `title:` …). A malformed block still
 * counts as front matter for line numbers but yields no data: a typo in
 * metadata must not stop a file from being indexed.
 */
export function parseFrontMatter(text: string): FrontMatter {
  const block = frontMatterBlock(text);
  if (!block) return { data: {}, bodyStartLine: 1 };
  const bodyStartLine = block.lines + 1;
  try {
    const doc = parseDocument(block.yaml, { logLevel: 'silent' });
    const data: unknown = doc.errors.length > 0 ? null : doc.toJS();
    return { data: isRecord(data) ? data : {}, bodyStartLine };
  } catch {
    return { data: {}, bodyStartLine };
  }
}
