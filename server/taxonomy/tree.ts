import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { UNCATEGORIZED, type DocumentSummary, type TaxonomyResponse, type TaxonomyTreeNode } from '../../shared/api-types.js';
import { parseFrontMatter } from '../text/front-matter.js';
import { openInLibrary } from '../indexing/library-paths.js';
import type { FileRecord } from '../stores/vector-store.js';
import type { Taxonomy } from './taxonomy.js';

/** Titles live in the first lines; reading whole files to list a tree would not scale. */
const TITLE_PEEK_BYTES = 16 * 1024;
const MARKDOWN = /\.(md|markdown|mdx)$/i;

/** Front matter `title:`, else the first `# H1`, else the file name. */
export function titleFromText(text: string, filePath: string): string {
  const fallback = path.posix.basename(filePath);
  if (!MARKDOWN.test(filePath)) return fallback;
  const { data, bodyStartLine } = parseFrontMatter(text);
  if (typeof data.title === 'string' && data.title.trim()) return data.title.trim();
  const body = text.split('\n').slice(bodyStartLine - 1);
  let inFence = false;
  for (const line of body) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const h1 = !inFence && /^#\s+(.+?)\s*#*\s*$/.exec(line);
    if (h1 && h1[1]) return h1[1].trim();
  }
  return fallback;
}

/** Through openInLibrary, like every library read: a link out of the library is not peeked into. */
async function peek(libraryRoot: string, rel: string): Promise<string> {
  const opened = await openInLibrary(libraryRoot, rel);
  if (opened === null) throw new Error(`${rel} is not in the library`);
  const { handle } = opened;
  try {
    const buf = Buffer.alloc(TITLE_PEEK_BYTES);
    const { bytesRead } = await handle.read(buf, 0, TITLE_PEEK_BYTES, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Document titles, cached by content hash so an unchanged file is read once. */
export class DocumentTitles {
  private readonly cache = new LRUCache<string, string>({ max: 20_000 });

  constructor(private readonly libraryRoot: string) {}

  async get(file: Pick<FileRecord, 'file_path' | 'file_hash'>): Promise<string> {
    const key = `${file.file_path}\0${file.file_hash}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    let title: string;
    try {
      title = titleFromText(await peek(this.libraryRoot, file.file_path), file.file_path);
    } catch {
      // Indexed but gone from disk (until the next index run): the name still identifies it.
      title = path.posix.basename(file.file_path);
    }
    this.cache.set(key, title);
    return title;
  }
}

export function toDocumentSummary(file: FileRecord, title: string): DocumentSummary {
  return {
    file_path: file.file_path,
    title,
    chunks: file.chunk_count,
    content_type: file.content_type,
    confidence: Math.round(file.confidence * 1000) / 1000,
    contributor: file.contributor,
    indexed_at: file.indexed_at,
  };
}

function byTitle(a: DocumentSummary, b: DocumentSummary): number {
  return a.title.localeCompare(b.title) || a.file_path.localeCompare(b.file_path);
}

/**
 * The Library tree: level 1 → level 2 with each node's documents. Every stored
 * document lands in exactly one node: its own, its level-1 parent when the
 * level-2 id is no longer in taxonomy.yaml, or "Uncategorized".
 */
export function buildTaxonomyTree(taxonomy: Taxonomy, documents: Array<{ file: FileRecord; summary: DocumentSummary }>): TaxonomyResponse {
  const nodes = new Map<string, TaxonomyTreeNode>();
  const categories: TaxonomyTreeNode[] = taxonomy.file.categories.map((cat) => {
    const node: TaxonomyTreeNode = {
      id: cat.id,
      name: cat.name,
      description: cat.description,
      full_path: cat.id,
      document_count: 0,
      documents: [],
      children: cat.children.map((child) => {
        const leaf: TaxonomyTreeNode = {
          id: child.id,
          name: child.name,
          description: child.description,
          full_path: `${cat.id}/${child.id}`,
          document_count: 0,
          documents: [],
          children: [],
        };
        nodes.set(leaf.full_path, leaf);
        return leaf;
      }),
    };
    nodes.set(node.full_path, node);
    return node;
  });
  const uncategorized: TaxonomyTreeNode = {
    id: UNCATEGORIZED,
    name: 'Uncategorized',
    description: 'Documents that match no category well enough (taxonomy.min_confidence), or whose category is no longer in taxonomy.yaml.',
    full_path: UNCATEGORIZED,
    document_count: 0,
    documents: [],
    children: [],
  };
  for (const { file, summary } of documents) {
    const target = nodes.get(file.taxonomy.full_path) ?? nodes.get(file.taxonomy.level1) ?? uncategorized;
    target.documents.push(summary);
  }
  for (const cat of categories) {
    cat.documents.sort(byTitle);
    for (const child of cat.children) {
      child.documents.sort(byTitle);
      child.document_count = child.documents.length;
    }
    cat.document_count = cat.documents.length + cat.children.reduce((n, c) => n + c.document_count, 0);
  }
  uncategorized.documents.sort(byTitle);
  uncategorized.document_count = uncategorized.documents.length;
  return { categories: [...categories, uncategorized], total_documents: documents.length };
}
