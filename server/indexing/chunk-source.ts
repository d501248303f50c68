/**
 * Source chunking at declaration boundaries: found by a real parser
 * (tree-sitter, chunk-source-grammars.ts) where a grammar exists, by line
 * patterns (chunk-source-languages.ts) for the few languages without one, and
 * otherwise by line windows. Sections name the declaration with its container
 * and signature: "class Store > search(query: string)".
 */
import type { Chunk, ChunkingOptions } from './chunk.js';
import { chunkRegions, type Region } from './chunk-regions.js';
import { grammarFor } from './chunk-source-grammars.js';
import { languageSpec } from './chunk-source-languages.js';
import { regexRegions } from './chunk-source-regex.js';
import { treeRegions } from './chunk-source-tree.js';
import { toDoc, type Doc } from './chunk-windows.js';
import { parserFor } from './tree-sitter.js';

async function regionsOf(doc: Doc, language: string, fileName: string): Promise<Region[]> {
  const grammar = grammarFor(language, fileName);
  if (grammar) {
    const parser = await parserFor(grammar.wasm);
    // Error-tolerant: a syntax error becomes an ERROR node, and the declarations around it still parse.
    const tree = parser.parse(doc.text);
    if (!tree) return [];
    try {
      return treeRegions(doc, tree.rootNode, grammar);
    } finally {
      tree.delete();
    }
  }
  const spec = languageSpec(language);
  return spec ? regexRegions(doc.text, spec) : [];
}

/**
 * Chunks source text of a language named as in file-types.ts; `fileName`
 * picks a dialect where the extension decides it (.tsx).
 */
export async function chunkSource(text: string, language: string, opts: ChunkingOptions, fileName = ''): Promise<Chunk[]> {
  const doc = toDoc(text);
  return chunkRegions(doc, await regionsOf(doc, language, fileName), opts);
}
