import { LRUCache } from 'lru-cache';
import { stemmer } from 'stemmer';
import type { ContentType } from '../../shared/api-types.js';
import type { LeadingChunk, ScoredPoint, VectorStore } from '../stores/vector-store.js';
import { tokenize } from '../text/tokenize.js';

/**
 * A prose document's lead: the words of its opening, which state what the
 * whole document is about (docs/retrieval.md, "The document's lead"). The
 * re-rank gives it to the document's best chunk alone (rerank.ts), so the
 * lead chooses between documents and never reorders one document's own sections.
 */
export const LEAD_WORDS = 100;
/** Chunks read for an opening: a first chunk can be a short synopsis alone. */
const LEAD_CHUNKS = 3;
/** Code opens with imports and a licence, which say nothing of what it does. */
const PROSE: ReadonlySet<ContentType> = new Set(['markdown', 'text']);
/** Leads remembered, by file and version: a few hundred bytes each. */
const CACHED_LEADS = 20_000;

/**
 * The first LEAD_WORDS words of a document's opening chunks, lines two chunks
 * share read once, stemmed as keyword search stems them (Porter's, which
 * FTS5's porter tokenizer also runs), so "Show commit logs" finds a lead
 * that says "Shows the commit logs".
 */
export function leadOf(chunks: readonly LeadingChunk[]): Set<string> {
  const words: string[] = [];
  let through = 0;
  for (const chunk of [...chunks].sort((a, b) => a.chunk_index - b.chunk_index)) {
    const lines = chunk.content.split('\n');
    const fresh = lines.slice(Math.max(0, through - chunk.start_line + 1));
    words.push(...tokenize(fresh.join('\n')));
    through = Math.max(through, chunk.end_line);
    if (words.length >= LEAD_WORDS) break;
  }
  return new Set(words.slice(0, LEAD_WORDS).map((w) => stemmer(w)));
}

/** The leads of the prose documents among search candidates, read from the store once per file version. */
export class DocumentLeads {
  private readonly cache = new LRUCache<string, Set<string>>({ max: CACHED_LEADS });

  constructor(private readonly store: VectorStore) {}

  async of(candidates: readonly ScoredPoint[]): Promise<Map<string, ReadonlySet<string>>> {
    const out = new Map<string, ReadonlySet<string>>();
    const missing = new Map<string, string>();
    for (const { payload } of candidates) {
      if (!PROSE.has(payload.content_type) || out.has(payload.file_path)) continue;
      const key = `${payload.file_path}\u0000${payload.file_hash}`;
      const lead = this.cache.get(key);
      if (lead === undefined) missing.set(payload.file_path, key);
      else out.set(payload.file_path, lead);
    }
    if (missing.size === 0) return out;
    const read = await this.store.leadingChunks([...missing.keys()], LEAD_CHUNKS);
    for (const [filePath, key] of missing) {
      const chunks = read.get(filePath);
      if (chunks === undefined) continue;
      const lead = leadOf(chunks);
      this.cache.set(key, lead);
      out.set(filePath, lead);
    }
    return out;
  }
}
