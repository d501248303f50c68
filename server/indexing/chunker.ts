import { parseDocument } from 'yaml';
import { isRecord } from '../../shared/guards.js';
import type { Chunk, ChunkingOptions } from './chunk.js';
import { chunkMarkdown, frontMatter } from './chunk-markdown.js';
import { chunkSource } from './chunk-source.js';
import { chunkText } from './chunk-text.js';
import { fileKind, type FileKind } from './file-types.js';

export interface ChunkedFile extends FileKind {
  chunks: Chunk[];
}

/** Chunks a file by its kind; null when its extension is not indexed. */
export async function chunkFile(relPath: string, text: string, opts: ChunkingOptions): Promise<ChunkedFile | null> {
  const kind = fileKind(relPath);
  if (!kind) return null;
  switch (kind.content_type) {
    case 'markdown':
      return { ...kind, chunks: chunkMarkdown(text, opts) };
    case 'code':
      return { ...kind, chunks: await chunkSource(text, kind.language ?? '', opts, relPath) };
    case 'text':
      return { ...kind, chunks: chunkText(text, opts) };
  }
}

export interface FrontMatter {
  data: Record<string, unknown>;
  /** 1-based line where the body starts: 1 without front matter. */
  bodyStartLine: number;
}

/**
 * Leading YAML front matter (`category:`, `title:` …). A malformed block still
 * counts as front matter for line numbers but yields no data: a typo in
 * metadata must not stop a file from being indexed.
 */
export function parseFrontMatter(text: string): FrontMatter {
  const block = frontMatter(text);
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
