import type { Chunk, ChunkingOptions } from './chunk.js';
import { TEXT_BREAKS, toDoc, windows } from './chunk-windows.js';

/**
 * Plain text has no structure we can trust beyond blank-line paragraphs, so
 * it is packed paragraph by paragraph (sentences, then lines, then words for
 * a paragraph over max_tokens), with overlap between consecutive chunks.
 */
export function chunkText(text: string, opts: ChunkingOptions): Chunk[] {
  const doc = toDoc(text);
  return windows(doc, { from: 0, to: doc.text.length }, opts, TEXT_BREAKS, '');
}
