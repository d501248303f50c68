/**
 * A document's lead in each of its chunks' keyword rows. A short query names
 * what a whole document is about ("Show commit logs"), and a document says
 * that in its opening (title, synopsis, first paragraph), while a chunk deep
 * inside it (OPTIONS, EXAMPLES) may never repeat those words; a chunk of a
 * long guide that happens to hold them then outranks the right page. Giving
 * every chunk its document's first words (in the index-only `idents` column,
 * never in the payload) carries that document-level evidence to every chunk
 * at the cost of LEAD_WORDS tokens per row (docs/retrieval.md, "Misses").
 */
import type { ChunkPayload } from '../../shared/api.js';

/** How much of the opening counts: about a title and a first paragraph. */
export const LEAD_WORDS = 60;

const WORD = /[\p{L}\p{N}]+/gu;

/** The first LEAD_WORDS words of a document's first chunk. */
export function documentLead(firstChunk: string): string {
  const words: string[] = [];
  for (const m of firstChunk.matchAll(WORD)) {
    words.push(m[0]);
    if (words.length >= LEAD_WORDS) break;
  }
  return words.join(' ');
}

/**
 * The lead of each file among `payloads` whose first chunk (chunk_index 0) is
 * there, by file path. Prose only: a code file opens with imports and a
 * licence, which say nothing about its functions.
 */
export function leadsByFile(payloads: Iterable<Pick<ChunkPayload, 'file_path' | 'chunk_index' | 'content' | 'content_type'>>): Map<string, string> {
  const leads = new Map<string, string>();
  for (const p of payloads) {
    if (p.chunk_index === 0 && p.content_type !== 'code') leads.set(p.file_path, documentLead(p.content));
  }
  return leads;
}
