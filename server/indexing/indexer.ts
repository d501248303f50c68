import writeFileAtomic from 'write-file-atomic';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { glob } from 'tinyglobby';
import type { ChunkPayload, IndexFileResult, IndexJobProgress, IndexResponse } from '../../shared/api.js';
import type { Config } from '../config/settings.js';
import { embedInBatches, type Embedder } from '../embedders/embedder.js';
import { diskFullCause } from '../reliability/disk-space.js';
import type { StoredPoint, VectorStore } from '../stores/vector-store.js';
import type { Classifier } from '../taxonomy/classifier.js';
import { refileByCentroid } from '../taxonomy/reclassify.js';
import { chunkFile, parseFrontMatter } from './chunker.js';
import { FileFilter } from './file-filter.js';
import { LibraryPathError, normalizeRelativePath, resolveInLibrary } from './library-paths.js';
import { md5, pointId } from './point-id.js';
import { IndexProgress, summarize } from './progress.js';

/**
 * Files indexed at once by a full or folder run. Embedding is already bounded
 * by embeddings.max_concurrent; this only overlaps one file's reads, chunking
 * and store writes with another's embedding wait.
 */
export const INDEX_CONCURRENCY = 4;

export interface IndexerDeps {
  config: Config;
  store: VectorStore;
  embedder: Embedder;
  classifier: Classifier;
  progress?: IndexProgress;
  /** Sees every file result of every run (metrics); per-run callers use `IndexOptions.onFile`. */
  onFileResult?: (result: IndexFileResult) => void;
  /** Throws when paid embedding must pause (monthly budget spent); absent for free embedders. */
  budgetCheck?: () => void;
}

export interface IndexOptions {
  contributor?: string | null;
  onFile?: (result: IndexFileResult, done: number, total: number) => void;
  /** Totals and the file being worked on, whenever either changes. */
  onProgress?: (progress: IndexJobProgress) => void;
  /**
   * Cancels a full or folder run cooperatively: checked before each file, so
   * files already started finish (each is replaced atomically in the store) and
   * the index stays consistent; the run then throws IndexCancelledError.
   */
  signal?: AbortSignal;
}

/** A run stopped by its signal; `results` holds the files finished before it stopped. */
export class IndexCancelledError extends Error {
  override name = 'IndexCancelledError';
  constructor(readonly results: IndexFileResult[]) {
    super(`indexing cancelled after ${results.length} file(s)`);
  }
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

  /** Throws BudgetExhaustedError (503) when paid embedding is paused; for callers that queue work to run later. */
  checkBudget(): void {
    this.deps.budgetCheck?.();
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
    this.deps.budgetCheck?.();
    await mkdir(this.libraryRoot, { recursive: true });
    const onDisk = await this.listFiles('');
    const known = (await this.deps.store.listFiles()).map((f) => f.file_path);
    const gone = known.filter((f) => !onDisk.includes(f));
    let files: IndexFileResult[];
    try {
      files = await this.runMany([...onDisk, ...gone], options);
    } catch (e) {
      // The files finished before a cancel are filed: the centroids should know them too.
      if (e instanceof IndexCancelledError) await this.deps.classifier.syncMembers(this.deps.store);
      throw e;
    }
    // Centroids learn from the documents now filed; cheap when the member set is unchanged.
    const { rebuilt } = await this.deps.classifier.syncMembers(this.deps.store);
    // Documents filed by their words before the members existed get the members' evidence check too.
    if (rebuilt) await refileByCentroid(this.deps.store, this.deps.classifier);
    return { files, summary: summarize(files, (performance.now() - started) / 1000) };
  }

  /**
   * The library-relative form of a file or folder path. Throws LibraryPathError
   * when it points outside the library or at nothing on disk or in the index
   * (a file deleted since it was indexed still counts: indexing it removes it).
   */
  async checkPath(relPath: string): Promise<string> {
    const { rel, abs } = resolveInLibrary(this.libraryRoot, relPath);
    const info = await stat(abs).catch(() => null);
    if (info?.isDirectory() || info?.isFile() || (await this.deps.store.getFile(rel))) return rel;
    throw new LibraryPathError(`path: "${rel}" does not exist in the library`);
  }

  /** Indexes one file or a folder (recursively) inside the library. */
  async indexPath(relPath: string, options: IndexOptions = {}): Promise<IndexResponse> {
    const started = performance.now();
    this.deps.budgetCheck?.();
    const rel = await this.checkPath(relPath);
    const info = await stat(path.join(this.libraryRoot, rel)).catch(() => null);
    let targets: string[];
    if (info?.isDirectory()) {
      const onDisk = await this.listFiles(rel);
      const prefix = rel === '' ? '' : rel + '/';
      const gone = (await this.deps.store.listFiles()).map((f) => f.file_path).filter((f) => f.startsWith(prefix) && !onDisk.includes(f));
      targets = [...onDisk, ...gone];
    } else {
      targets = [rel];
    }
    const files = await this.runMany(targets, options);
    return { files, summary: summarize(files, (performance.now() - started) / 1000) };
  }

  /**
   * Writes a file sent from an editor under library/<uploads_dir>/<workspace>/,
   * so the library stays the source of truth, then indexes it.
   */
  /** Where an upload from an editor lands: library/<uploads_dir>/<workspace>/<file_path>. */
  uploadTarget(filePath: string, workspace: string | undefined): string {
    const inner = normalizeRelativePath(filePath, 'file_path');
    if (inner === '') throw new LibraryPathError('file_path: must name a file');
    const folder = workspace ?? 'default';
    if (folder === '.' || folder === '..' || /[\\/]/.test(folder)) {
      throw new LibraryPathError(`workspace: "${folder}" must be one folder name (letters, digits, ".", "-", "_"), not "." or ".."`);
    }
    return [this.deps.config.settings.library.uploads_dir, folder, inner].join('/');
  }

  async indexUpload(filePath: string, content: string, workspace: string | undefined, options: IndexOptions = {}): Promise<IndexResponse> {
    const started = performance.now();
    // Before the file is written: a refused upload leaves the library as it was.
    this.deps.budgetCheck?.();
    const rel = this.uploadTarget(filePath, workspace);
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
        await writeFileAtomic(abs, bytes);
        return this.indexOne(rel, filter, options.contributor ?? null);
      });
    }
    this.deps.onFileResult?.(result);
    options.onFile?.(result, 1, 1);
    return { files: [result], summary: summarize([result], (performance.now() - started) / 1000) };
  }

  private async listFiles(relDir: string): Promise<string[]> {
    const cwd = path.join(this.libraryRoot, relDir);
    const found = await glob('**/*', { cwd, dot: true, onlyFiles: true, followSymbolicLinks: false });
    return found.map((f) => (relDir ? `${relDir}/${f}` : f)).sort();
  }

  /**
   * Different files index in parallel (a few at a time, so one slow embedding
   * batch does not stall the run); each file still goes through `exclusive`.
   * Results keep the order of `targets`.
   */
  private async runMany(targets: string[], options: IndexOptions): Promise<IndexFileResult[]> {
    const filter = this.newFilter();
    const results: IndexFileResult[] = new Array<IndexFileResult>(targets.length);
    const limit = pLimit(INDEX_CONCURRENCY);
    let done = 0;
    const { signal } = options;
    // Several files run at once: `current` is the latest one started that is still under way.
    const underWay = new Set<string>();
    const report = () => options.onProgress?.({ files_total: targets.length, files_done: done, current: [...underWay].at(-1) ?? null });
    this.progress.start(targets.length);
    report();
    try {
      await Promise.all(
        targets.map((rel, i) =>
          limit(async () => {
            // Checked as each file starts: files already under way finish, queued ones never start.
            if (signal?.aborted) return;
            this.progress.step(rel);
            underWay.add(rel);
            report();
            const result = await this.exclusive(rel, () => this.indexOne(rel, filter, options.contributor ?? null));
            underWay.delete(rel);
            results[i] = result;
            done += 1;
            this.progress.fileDone();
            this.deps.onFileResult?.(result);
            options.onFile?.(result, done, targets.length);
            report();
          }),
        ),
      );
      if (signal?.aborted) {
        const finished = results.filter((r): r is IndexFileResult => r !== undefined);
        // /health's progress has no "cancelled" state; the job record carries it.
        this.progress.finish(summarize(finished, 0), 'cancelled');
        throw new IndexCancelledError(finished);
      }
      this.progress.finish(summarize(results, 0));
    } catch (e) {
      if (e instanceof IndexCancelledError) throw e;
      limit.clearQueue();
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
      // A full disk is not this file's problem: it fails every write, so the request (or run) fails with 507.
      if (diskFullCause(e)) throw e;
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
    const chunked = await chunkFile(rel, text, config.settings.chunking);
    if (!chunked) return this.skip(rel, `unsupported file type "${path.extname(rel) || rel}"`);
    if (chunked.chunks.length === 0) return this.skip(rel, 'no text to index');
    // Again per file: a long run that crosses the budget stops spending; the file keeps its old chunks.
    this.deps.budgetCheck?.();
    const vectors = await embedInBatches(
      embedder,
      chunked.chunks.map((c) => (c.section ? `${c.section}\n${c.content}` : c.content)),
      config.settings.embeddings.batch_size,
    );
    const front = chunked.content_type === 'markdown' ? parseFrontMatter(text).data : {};
    const category = typeof front.category === 'string' ? front.category : undefined;
    // The centroids of a fresh DATA_DIR are built by the first file that needs them, or by the background retry.
    await classifier.prepare();
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
