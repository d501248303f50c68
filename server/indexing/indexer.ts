import { randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { glob } from 'tinyglobby';
import type { ChunkPayload, IndexFileResult, IndexResponse } from '../../shared/api-types.js';
import type { Config } from '../config/settings.js';
import { embedInBatches, type Embedder } from '../embedders/embedder.js';
import { diskFullCause } from '../reliability/disk-space.js';
import type { StoredPoint, VectorStore } from '../stores/vector-store.js';
import type { Classifier } from '../taxonomy/classifier.js';
import { refileByCentroid } from '../taxonomy/reclassify.js';
import { atomicWrite, isAtomicWriteTemp } from '../storage/atomic-write.js';
import { KeyedMutex } from '../storage/keyed-mutex.js';
import { parseFrontMatter } from '../text/front-matter.js';
import { chunkFile } from './chunker.js';
import { FileFilter } from './file-filter.js';
import { fileKind } from './file-types.js';
import { IndexEvents, summarize } from './index-events.js';
import { LibraryPathError, normalizeRelativePath, openInLibrary, readInLibrary, resolveInLibrary } from './library-paths.js';
import type { OwnerStore } from './owner-store.js';
import { md5, pointId } from './point-id.js';
import { NotOwnerError, UploadNotIndexedError, UploadRefusedError } from './upload-errors.js';

/**
 * Files indexed at once by a full or folder run. Embedding is already bounded
 * by embeddings.max_concurrent; this only overlaps one file's reads, chunking
 * and store writes with another's embedding wait.
 */
export const INDEX_CONCURRENCY = 4;

/** Longest file or folder name the file systems we run on accept (NAME_MAX, in bytes). */
export const MAX_NAME_BYTES = 255;

/**
 * Times a file is indexed again when it changed on disk while it was being
 * indexed. Another process (the CLI, the server) may write it in between; the
 * writer indexes it afterwards, so a few rounds settle any real race.
 */
const SETTLE_ROUNDS = 3;

export interface IndexerDeps {
  config: Config;
  store: VectorStore;
  embedder: Embedder;
  classifier: Classifier;
  /** Throws when paid embedding must pause (monthly budget spent); absent for free embedders. */
  budgetCheck?: () => void;
  /** Who contributed each file, recorded before an upload is written (DATA_DIR/owners.sqlite). */
  owners: OwnerStore;
}

export interface UploadOptions extends IndexOptions {
  /** Whether the uploader may replace a file contributed by `owner` (null: placed in the library directly). */
  mayReplace: (owner: string | null) => boolean;
}

/** An atomic write lives for milliseconds; a temp file this old was left by a killed process. */
const STALE_TEMP_MS = 10 * 60 * 1000;

async function removeIfStale(file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(file, { force: true });
}

/**
 * File timestamps come from a coarse kernel clock: a write within one clock
 * tick of an earlier change may leave ctime and mtime as they were. A file's
 * stat therefore vouches for its bytes only when its last change is older
 * than the read by this margin (git's "racily clean" rule), far above any tick.
 */
const STAMP_SETTLED_NS = 1_000_000_000n;

/** What a pass read, identified without reading it again: the same file, size and change times mean the same bytes. */
interface FileStamp {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

function stampOf(s: BigIntStats): FileStamp {
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** What one pass over a file did, and the MD5 of the bytes it acted on (null: no file was there). */
interface Pass {
  result: IndexFileResult;
  hash: string | null;
  /** The stat of the bytes read, when it can vouch for them (see STAMP_SETTLED_NS); null: read again to compare. */
  stamp?: FileStamp | null;
}

export interface IndexOptions {
  contributor?: string | null;
  /** The id this run's events carry on `LibraryIndexer.events` (a job's id); a fresh one when absent. */
  run?: string;
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
 * The LibraryIndexer (README "How it works", Indexing): reads library files, skips unchanged ones by MD5,
 * chunks, embeds in batches, classifies and hands each file to the store as one
 * replacement (new chunks in, then stale ones out).
 */
export class LibraryIndexer {
  /** Every run's progress and every file's result, uploads included: the one way the indexer reports. */
  readonly events = new IndexEvents();
  private readonly perFile = new KeyedMutex();
  private fullRun: Promise<IndexResponse> | null = null;

  constructor(private readonly deps: IndexerDeps) {}

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

  /** Where an upload from an editor lands: library/<uploads_dir>/<workspace>/<file_path>. */
  uploadTarget(filePath: string, workspace: string | undefined): string {
    const inner = normalizeRelativePath(filePath, 'file_path');
    if (inner === '') throw new LibraryPathError('file_path: must name a file');
    const folder = workspace ?? 'default';
    if (folder === '.' || folder === '..' || /[\\/]/.test(folder)) {
      throw new LibraryPathError(`workspace: "${folder}" must be one folder name (letters, digits, ".", "-", "_"), not "." or ".."`);
    }
    for (const name of inner.split('/')) {
      const bytes = Buffer.byteLength(name, 'utf8');
      if (bytes > MAX_NAME_BYTES) {
        throw new LibraryPathError(`file_path: the name "${name.slice(0, 40)}…" is ${bytes} bytes; file and folder names may be at most ${MAX_NAME_BYTES} bytes, shorten it`);
      }
    }
    return [this.deps.config.settings.library.uploads_dir, folder, inner].join('/');
  }

  /**
   * Who owns `rel` now: undefined when nobody does (no file on disk or in the
   * index; a record left by a kill before its file was written is stale), null
   * for a file placed in the library directly.
   */
  private async ownerOf(rel: string, abs: string): Promise<string | null | undefined> {
    const onDisk = (await stat(abs).catch(() => null)) !== null;
    const indexed = await this.deps.store.getFile(rel);
    if (!onDisk && !indexed) return undefined;
    return this.deps.owners.get(rel) ?? indexed?.contributor ?? null;
  }

  /** Why this content would not be indexed, checked before anything is written; null when it would be. */
  private async uploadRefusal(rel: string, bytes: Buffer, filter: FileFilter): Promise<UploadRefusedError | null> {
    const refused = (reason: string) => new UploadRefusedError('not_indexable', `file_path: "${rel}" is not indexed (${reason}), so it was not stored`);
    const pathRefusal = filter.checkPath(rel, bytes.length);
    if (pathRefusal) return refused(pathRefusal);
    const checked = filter.checkContent(bytes);
    if ('reason' in checked) return refused(checked.reason);
    if (!fileKind(rel)) {
      const ext = path.extname(rel);
      return new UploadRefusedError(
        'unsupported_type',
        `file_path: "${rel}" ${ext ? `has the unsupported type "${ext}"` : 'has no extension'}; only markdown, text and source files are indexed (README "How it works"), so it was not stored`,
      );
    }
    const chunked = await chunkFile(rel, checked.text, this.deps.config.settings.chunking);
    if (!chunked || chunked.chunks.length === 0) return refused('no text to index');
    return null;
  }

  /**
   * Writes a file sent from an editor under library/<uploads_dir>/<workspace>/,
   * so the library stays the source of truth, then indexes it. The ownership
   * check, the owner's record, the write and the index are one step under the
   * file's lock: of concurrent uploads of a new path, the first wins and the
   * others get NotOwnerError. Content that would not be indexed is refused
   * before anything is written; a failed index puts the previous file back.
   */
  async indexUpload(filePath: string, content: string, workspace: string | undefined, options: UploadOptions): Promise<IndexResponse> {
    const started = performance.now();
    // Before the file is written: a refused upload leaves the library as it was.
    this.deps.budgetCheck?.();
    const rel = this.uploadTarget(filePath, workspace);
    const { abs } = resolveInLibrary(this.libraryRoot, rel, 'file_path');
    const filter = this.newFilter();
    const bytes = Buffer.from(content, 'utf8');
    const uploader = options.contributor ?? null;
    const result = await this.perFile.run(rel, async () => {
      const owner = await this.ownerOf(rel, abs);
      if (owner !== undefined && !options.mayReplace(owner)) throw new NotOwnerError(rel, owner);
      const refusal = await this.uploadRefusal(rel, bytes, filter);
      if (refusal) throw refusal;
      const previous = await readInLibrary(this.libraryRoot, rel).catch(() => null);
      // Recorded before the write: a kill between the write and the index keeps the contributor.
      const recorded = owner ?? uploader;
      if (recorded !== null) this.deps.owners.set(rel, recorded);
      await mkdir(path.dirname(abs), { recursive: true });
      await atomicWrite(abs, bytes);
      const done = await this.indexOne(rel, filter, uploader);
      if (done.status === 'indexed' || done.status === 'unchanged') return done;
      // Not indexed: the library must not keep text the index does not have.
      if (previous === null) {
        await rm(abs, { force: true });
        if (owner === undefined) this.deps.owners.release(rel);
      } else {
        await atomicWrite(abs, previous);
      }
      this.publishUpload(done);
      throw new UploadNotIndexedError(`file_path: "${rel}" could not be indexed (${done.reason ?? done.status}); it was not stored, try again`);
    });
    this.publishUpload(result);
    return { files: [result], summary: summarize([result], (performance.now() - started) / 1000) };
  }

  private async listFiles(relDir: string): Promise<string[]> {
    const cwd = path.join(this.libraryRoot, relDir);
    const found = await glob('**/*', { cwd, dot: true, onlyFiles: true, followSymbolicLinks: false });
    const files: string[] = [];
    for (const f of found) {
      if (isAtomicWriteTemp(path.posix.basename(f))) {
        // An upload's temp file is not a document; one a kill left behind is old and goes.
        await removeIfStale(path.join(cwd, f));
        continue;
      }
      files.push(relDir ? `${relDir}/${f}` : f);
    }
    return files.sort();
  }

  /**
   * Different files index in parallel (a few at a time, so one slow embedding
   * batch does not stall the run); each file still goes through its lock (`perFile`).
   * Results keep the order of `targets`.
   */
  private async runMany(targets: string[], options: IndexOptions): Promise<IndexFileResult[]> {
    const started = performance.now();
    const filter = this.newFilter();
    const results: IndexFileResult[] = new Array<IndexFileResult>(targets.length);
    const limit = pLimit(INDEX_CONCURRENCY);
    let done = 0;
    const { signal } = options;
    const run = options.run ?? randomUUID();
    // Several files run at once: `current` is the latest one started that is still under way.
    const underWay = new Set<string>();
    const progress = () => ({ files_total: targets.length, files_done: done, current: [...underWay].at(-1) ?? null });
    const ended = (outcome: 'done' | 'cancelled' | 'failed', files: IndexFileResult[], error: string | null) =>
      this.events.publish({ type: 'run_ended', run, outcome, summary: summarize(files, (performance.now() - started) / 1000), error });
    this.events.publish({ type: 'run_started', run, progress: progress() });
    try {
      await Promise.all(
        targets.map((rel, i) =>
          limit(async () => {
            // Checked as each file starts: files already under way finish, queued ones never start.
            if (signal?.aborted) return;
            underWay.add(rel);
            this.events.publish({ type: 'file_started', run, file: rel, progress: progress() });
            const result = await this.perFile.run(rel, () => this.indexOne(rel, filter, options.contributor ?? null));
            underWay.delete(rel);
            results[i] = result;
            done += 1;
            this.events.publish({ type: 'file_done', run, result, progress: progress() });
          }),
        ),
      );
      if (signal?.aborted) {
        const finished = results.filter((r): r is IndexFileResult => r !== undefined);
        ended('cancelled', finished, null);
        throw new IndexCancelledError(finished);
      }
      ended('done', results, null);
    } catch (e) {
      if (e instanceof IndexCancelledError) throw e;
      limit.clearQueue();
      ended('failed', results.filter((r): r is IndexFileResult => r !== undefined), e instanceof Error ? e.message : String(e));
      throw e;
    }
    return results;
  }

  /** An upload's result: a file indexed on its own, part of no run. */
  private publishUpload(result: IndexFileResult): void {
    this.events.publish({ type: 'file_done', run: null, result, progress: { files_total: 1, files_done: 1, current: null } });
  }

  /**
   * Indexes one file until what the index holds is what the disk holds. This
   * process's own writers are serialised by the file's lock, but the CLI and
   * the server share the library: text read here may be replaced on disk
   * before this pass commits, and committing it then would leave new text on
   * disk with old text in the index. So after each commit the file is read
   * again and, if it changed, indexed again (the other writer also indexes it
   * after its write, so the last commit always matches the disk). A file
   * whose stat is unchanged since the read, and was settled then, is not
   * read again: most files of a full run are, and the second read cost as
   * much as the first.
   */
  private async indexOne(rel: string, filter: FileFilter, contributor: string | null): Promise<IndexFileResult> {
    for (let round = 1; ; round++) {
      const pass = await this.indexPass(rel, filter, contributor);
      const { status } = pass.result;
      if ((status !== 'indexed' && status !== 'deleted') || round >= SETTLE_ROUNDS) return pass.result;
      if (pass.stamp) {
        const after = await stat(path.join(this.libraryRoot, rel), { bigint: true }).catch(() => null);
        if (after !== null && sameStamp(pass.stamp, stampOf(after))) return pass.result;
      }
      const now = await readInLibrary(this.libraryRoot, rel).catch(() => null);
      if ((now === null ? null : md5(now)) === pass.hash) return pass.result;
    }
  }

  /** One pass over a file. Never throws for a file's own problems: they become a failed or skipped result. */
  private async indexPass(rel: string, filter: FileFilter, contributor: string | null): Promise<Pass> {
    const { store } = this.deps;
    let opened;
    try {
      // The one check every library read goes through: a link out of the library is never read.
      opened = await openInLibrary(this.libraryRoot, rel);
    } catch (e) {
      if (e instanceof LibraryPathError) return { result: await this.skip(rel, e.message), hash: null };
      return { result: { file_path: rel, status: 'failed', chunks: 0, reason: e instanceof Error ? e.message : String(e) }, hash: null };
    }
    try {
      if (opened === null) {
        const removed = await store.deleteFile(rel);
        this.deps.owners.release(rel);
        return { result: { file_path: rel, status: 'deleted', chunks: removed }, hash: null };
      }
      const skip = async (reason: string) => ({ result: await this.skip(rel, reason), hash: null });
      const pathRefusal = filter.checkPath(rel, opened.size);
      if (pathRefusal) return await skip(pathRefusal);
      const readAt = BigInt(Date.now()) * 1_000_000n;
      const before = await opened.handle.stat({ bigint: true });
      const stamp = before.ctimeNs < readAt - STAMP_SETTLED_NS && before.mtimeNs < readAt - STAMP_SETTLED_NS ? stampOf(before) : null;
      const bytes = await opened.handle.readFile();
      await opened.handle.close();
      opened = null;
      const checked = filter.checkContent(bytes);
      if ('reason' in checked) return await skip(checked.reason);
      const fileHash = md5(bytes);
      const existing = await store.getFile(rel);
      if (existing && existing.file_hash === fileHash) {
        return { result: { file_path: rel, status: 'unchanged', chunks: existing.chunk_count, taxonomy: existing.taxonomy }, hash: fileHash };
      }
      // The owner recorded with the upload wins: it survives a kill before the first index.
      const owner = this.deps.owners.get(rel) ?? existing?.contributor ?? contributor;
      return { result: await this.indexText(rel, checked.text, fileHash, owner), hash: fileHash, stamp };
    } catch (e) {
      // A full disk is not this file's problem: it fails every write, so the request (or run) fails with 507.
      if (diskFullCause(e)) throw e;
      return { result: { file_path: rel, status: 'failed', chunks: 0, reason: e instanceof Error ? e.message : String(e) }, hash: null };
    } finally {
      await opened?.handle.close().catch(() => undefined);
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
