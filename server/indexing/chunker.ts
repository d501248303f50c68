import type { Chunk, ChunkingOptions } from './chunk.js';
import { chunkMarkdown } from './chunk-markdown.js';
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
