/** One piece of a file as it is embedded and stored. */
export interface Chunk {
  content: string;
  /** Where the chunk sits in the file: a heading path ("Setup > Install") or a declaration ("class Store > method search"). */
  section: string;
  /** 1-based, inclusive, relative to the original file text. */
  start_line: number;
  end_line: number;
}

/** Token counts are `estimateTokens` estimates (see tokens.ts), not real tokenizer counts. */
export interface ChunkingOptions {
  min_tokens: number;
  max_tokens: number;
  overlap_tokens: number;
}
