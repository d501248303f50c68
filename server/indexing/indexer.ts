import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import type { ChunkPayload, IndexFileResult, IndexResponse } from '../../shared/api.js';
import type { Config } from '../config/settings.js';
import { embedInBatches, type Embedder } from '../embedders/embedder.js';
import type { StoredPoint, VectorStore } from '../stores/vector-store.js';
import type { Classifier } from '../taxonomy/classifier.js';
import { chunkFile, parseFrontMatter } from './chunker.js';
import { FileFilter } from './file-filter.js';
import { LibraryPathError, normalizeRelativePath, resolveInLibrary } from './library-paths.js';
import { md5, pointId } from './point-id.js';
import { IndexProgress, summarize } from './progress.js';

export interface IndexerDeps {
  config: Config;
  store: VectorStore;
  embedder: Embedder;
  classifier: Classifier;
  progress?: IndexProgress;
}

export interface IndexOptions {
  contributor?: string | null;
  onFile?: (result: IndexFileResult, done: number, total: number) => void;
}

/**
 * The seed's LibraryIndexer: reads library files, skips unchanged ones by MD5,
 * chunks, embeds in batches, classifies and hands each file to the store as one
 * replacement (new chunks in, then stale ones out).
 */
export class LibraryIndexer {
  readonly progress: IndexProgress;
  private readonly perFile = new Map<string, Promise<unknown>>();
  private fullRun: Promise<IndexResponse> | null = null;

  constructor(private readonly deps: IndexerDeps) {
    this.progress = deps.progress ?? new IndexProgress();
  }

  private get libraryRoot(): string {
    return this.deps.config.paths.library;
  }

  private newFilter(): FileFilter {
    const lib = this.deps.config.settings.library;
    return new FileFilter(this.libraryRoot, lib.ignore_file, lib.max_file_bytes);
  }

  /** Indexes the whole library and removes files that disappeared. One full run at a time. */
  indexAll(options: IndexOptions = {}): Promise<IndexResponse> {
    if (!this.fullRun) {
      this.fullRun = this.runAll(options).finally(() => {
        this.fullRun = null;
      });
    }
    return this.fullRun;
  }

  private async runAll(options: IndexOptions): Promise<IndexResponse> {
    const started = performance.now();
    await mkdir(this.libraryRoot, { recursive: true });
    const onDisk = await this.listFiles('');
    const known = (await this.deps.store.listFiles()).map((f) => f.file_path);
    const gone = known.filter((f) => !onDisk.includes(f));
    const files = await this.runMany([...onDisk, ...gone], options);
    // Centroids learn from the documents now filed; cheap when the member set is unchanged.
    await this.deps.classifier.syncMembers(this.deps.store);
    return { files, summary: summarize(files, (performance.now() - started) / 1000) };
  }

  /** Indexes one file or a folder (recursively) inside the library. */
  async indexPath(relPath: string, options: IndexOptions = {}): Promise<IndexResponse> {
    const started = performance.now();
    const { rel, abs } = resolveInLibrary(this.libraryRoot, relPath);
    const info = await stat(abs).catch(() => null);
    let targets: string[];
    if (info?.isDirectory()) {
      const onDisk = await this.listFiles(rel);
      const prefix = rel === '' ? '' : rel + '/';
      const gone = (await this.deps.store.listFiles()).map((f) => f.file_path).filter((f) => f.startsWith(prefix) && !onDisk.includes(f));
      targets = [...onDisk, ...gone];
    } else if (info?.isFile() || (await this.deps.store.getFile(rel))) {
      targets = [rel];
    } else {
      throw new LibraryPathError(`path: "${rel}" does not exist in the library`);
    }
    const files = await this.runMany(targets, options);
    return { files, summary: summarize(files, (performance.now() - started) / 1000) };
  }

  /**
   * Writes a file sent from an editor under library/<uploads_dir>/<workspace>/,
   * so the library stays the source of truth, then indexes it.
   */
  async indexUpload(filePath: string, content: string, workspace: string | undefined, options: IndexOptions = {}): Promise<IndexResponse> {
    const started = performance.now();
    const inner = normalizeRelativePath(filePath, 'file_path');
    if (inner === '') throw new LibraryPathError('file_path: must name a file');
    const rel = [this.deps.config.settings.library.uploads_dir, workspace ?? 'default', inner].join('/');
    const { abs } = resolveInLibrary(this.libraryRoot, rel, 'file_path');
    const filter = this.newFilter();
    const bytes = Buffer.from(content, 'utf8');
    const checked = filter.checkContent(bytes);
    const refusal = filter.checkPath(rel, bytes.length) ?? ('reason' in checked ? checked.reason : null);
    let result: IndexFileResult;
    if (refusal) {
      // Refused uploads are never written: the library must not hold secrets or binaries.
      result = { file_path: rel, status: 'skipped', chunks: 0, reason: refusal };
    } else {
      result = await this.exclusive(rel, async () => {
        await mkdir(path.dirname(abs), { recursive: true });
        // Write-then-rename: a crash never leaves a half-written library file.
        const tmp = `${abs}.${process.pid}.${Date.now()}.tmp`;
        await writeFile(tmp, bytes);
        await rename(tmp, abs);
        return this.indexOne(rel, filter, options.contributor ?? null);
      });
    }
    options.onFile?.(result, 1, 1);
    return { files: [result], summary: summarize([result], (performance.now() - started) / 1000) };
  }

  private async listFiles(relDir: string): Promise<string[]> {
    const cwd = path.join(this.libraryRoot, relDir);
    const found = await glob('**/*', { cwd, dot: true, onlyFiles: true, followSymbolicLinks: false });
    return found.map((f) => (relDir ? `${relDir}/${f}` : f)).sort();
  }

  private async runMany(targets: string[], options: IndexOptions): Promise<IndexFileResult[]> {
    const filter = this.newFilter();
    const results: IndexFileResult[] = [];
    this.progress.start(targets.length);
    try {
      for (const rel of targets) {
        this.progress.step(rel);
        const result = await this.exclusive(rel, () => this.indexOne(rel, filter, options.contributor ?? null));
        results.push(result);
        this.progress.fileDone();
        options.onFile?.(result, results.length, targets.length);
      }
      this.progress.finish(summarize(results, 0));
    } catch (e) {
      this.progress.fail(e instanceof Error ? e.message : String(e));
      throw e;
    }
    return results;
  }

  /** Serialises work on one file: two concurrent requests for it end in one consistent version. */
  private async exclusive<T>(rel: string, work: () => Promise<T>): Promise<T> {
    const previous = this.perFile.get(rel) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.perFile.set(rel, next);
    try {
      return await next;
    } finally {
      if (this.perFile.get(rel) === next) this.perFile.delete(rel);
    }
  }

  /** Never throws for a file's own problems: they become a failed or skipped result. */
  private async indexOne(rel: string, filter: FileFilter, contributor: string | null): Promise<IndexFileResult> {
    const { store } = this.deps;
    try {
      const abs = path.join(this.libraryRoot, rel);
      const info = await stat(abs).catch(() => null);
      if (!info?.isFile()) {
        const removed = await store.deleteFile(rel);
        return { file_path: rel, status: 'deleted', chunks: removed };
      }
      const skip = (reason: string) => this.skip(rel, reason);
      const pathRefusal = filter.checkPath(rel, info.size);
      if (pathRefusal) return await skip(pathRefusal);
      const bytes = await readFile(abs);
      const checked = filter.checkContent(bytes);
      if ('reason' in checked) return await skip(checked.reason);
      const fileHash = md5(bytes);
      const existing = await store.getFile(rel);
      if (existing && existing.file_hash === fileHash) {
        return { file_path: rel, status: 'unchanged', chunks: existing.chunk_count, taxonomy: existing.taxonomy };
      }
      return await this.indexText(rel, checked.text, fileHash, existing?.contributor ?? contributor);
    } catch (e) {
      return { file_path: rel, status: 'failed', chunks: 0, reason: e instanceof Error ? e.message : String(e) };
    }
  }

  /** A file that is now refused loses whatever an earlier run stored for it. */
  private async skip(rel: string, reason: string): Promise<IndexFileResult> {
    await this.deps.store.deleteFile(rel);
    return { file_path: rel, status: 'skipped', chunks: 0, reason };
  }

  private async indexText(rel: string, text: string, fileHash: string, contributor: string | null): Promise<IndexFileResult> {
    const { config, embedder, classifier, store } = this.deps;
    const chunked = chunkFile(rel, text, config.settings.chunking);
    if (!chunked) return this.skip(rel, `unsupported file type "${path.extname(rel) || rel}"`);
    if (chunked.chunks.length === 0) return this.skip(rel, 'no text to index');
    const vectors = await embedInBatches(
      embedder,
      chunked.chunks.map((c) => (c.section ? `${c.section}\n${c.content}` : c.content)),
      config.settings.embeddings.batch_size,
    );
    const front = chunked.content_type === 'markdown' ? parseFrontMatter(text).data : {};
    const category = typeof front.category === 'string' ? front.category : undefined;
    const { taxonomy, confidence } = classifier.classify(vectors, category);
    const now = new Date().toISOString();
    const points: StoredPoint[] = chunked.chunks.map((chunk, i) => {
      const contentHash = md5(chunk.content);
      const payload: ChunkPayload = {
        file_path: rel,
        content: chunk.content,
        content_type: chunked.content_type,
        language: chunked.language,
        section: chunk.section,
        start_line: chunk.start_line,
        end_line: chunk.end_line,
        chunk_index: i,
        content_hash: contentHash,
        file_hash: fileHash,
        taxonomy,
        classification: { confidence },
        contributor,
        created_at: now,
        updated_at: now,
      };
      return { id: pointId(rel, i, contentHash), vector: vectors[i] ?? new Float32Array(embedder.dimension), payload };
    });
    await store.replaceFile(
      {
        file_path: rel,
        file_hash: fileHash,
        chunk_count: points.length,
        content_type: chunked.content_type,
        taxonomy,
        confidence,
        contributor,
        indexed_at: now,
      },
      points,
    );
    return { file_path: rel, status: 'indexed', chunks: points.length, taxonomy };
  }
}
