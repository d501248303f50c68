import type { TaxonomyPath } from '../../shared/api-types.js';
import { parseFrontMatter } from '../text/front-matter.js';
import { readInLibrary } from '../indexing/library-paths.js';
import type { FileRecord, VectorStore } from '../stores/vector-store.js';
import type { Classifier } from './classifier.js';

export interface ReclassifyChange {
  file_path: string;
  from: TaxonomyPath;
  to: TaxonomyPath;
  confidence: number;
}

export interface ReclassifySummary {
  files: number;
  changed: number;
  unchanged: number;
  /** Documents whose node moved (confidence-only updates are counted in `changed` but not listed). */
  moves: ReclassifyChange[];
  members: number;
  seconds: number;
}

export interface ReclassifyDeps {
  store: VectorStore;
  classifier: Classifier;
  libraryRoot: string;
}

/** The author's `category:` as it is on disk now; the store does not keep front matter. */
async function frontMatterCategory(libraryRoot: string, file: FileRecord): Promise<string | undefined> {
  if (file.content_type !== 'markdown') return undefined;
  try {
    const bytes = await readInLibrary(libraryRoot, file.file_path);
    if (bytes === null) return undefined;
    const { data } = parseFrontMatter(bytes.toString('utf8'));
    return typeof data.category === 'string' ? data.category : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Files every stored document again against the current taxonomy and centroids,
 * from the vectors already in the store: nothing is re-embedded or re-chunked,
 * only taxonomy fields change (`npm run index -- --reclassify`).
 */
export async function reclassify(deps: ReclassifyDeps, onFile?: (file: string, done: number, total: number) => void): Promise<ReclassifySummary> {
  const started = performance.now();
  const { store, classifier } = deps;
  await classifier.prepare();
  await classifier.syncMembers(store);
  const files = await store.listFiles();
  const moves: ReclassifyChange[] = [];
  let changed = 0;
  for (const [i, file] of files.entries()) {
    const chunks = await store.fileChunks(file.file_path);
    const category = await frontMatterCategory(deps.libraryRoot, file);
    let { taxonomy, confidence } = classifier.classify(
      chunks.map((c) => c.vector),
      category,
      file.file_path,
    );
    if (chunks.length === 0 && file.confidence === 1 && category === undefined) {
      // No vectors and no readable front matter: keep what the author once said.
      ({ taxonomy, confidence } = file);
    }
    const moved = taxonomy.full_path !== file.taxonomy.full_path;
    if (moved || Math.abs(confidence - file.confidence) > 1e-6) {
      await store.setTaxonomy(file.file_path, taxonomy, confidence);
      changed += 1;
      if (moved) moves.push({ file_path: file.file_path, from: file.taxonomy, to: taxonomy, confidence });
    }
    onFile?.(file.file_path, i + 1, files.length);
  }
  // Membership follows the new filing; the next classification should see it.
  const { members } = await classifier.syncMembers(store);
  return { files: files.length, changed, unchanged: files.length - changed, moves, members, seconds: (performance.now() - started) / 1000 };
}

/**
 * Files again the documents that were filed by their words (not by front
 * matter: confidence below 1) against the current centroids and members,
 * from the stored vectors. A full index files each document as it goes, so
 * one indexed before the library had members was judged by the absolute
 * threshold alone; after the members change, this gives it the same evidence
 * check as a document indexed later (issue 11, point 8). Returns how many moved.
 */
export async function refileByCentroid(store: VectorStore, classifier: Classifier): Promise<number> {
  let moved = 0;
  for (const file of await store.listFiles()) {
    if (file.confidence >= 1) continue;
    const chunks = await store.fileChunks(file.file_path);
    if (chunks.length === 0) continue;
    const { taxonomy, confidence } = classifier.classify(
      chunks.map((c) => c.vector),
      undefined,
      file.file_path,
    );
    if (taxonomy.full_path === file.taxonomy.full_path && Math.abs(confidence - file.confidence) <= 1e-6) continue;
    await store.setTaxonomy(file.file_path, taxonomy, confidence);
    if (taxonomy.full_path !== file.taxonomy.full_path) moved += 1;
  }
  return moved;
}
