import writeFileAtomic from 'write-file-atomic';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { TaxonomyPath } from '../../shared/api.js';
import type { Embedder } from '../embedders/embedder.js';
import { cosine, meanVector } from '../retrieval/vector-math.js';
import type { FileRecord, VectorStore } from '../stores/vector-store.js';
import { findNode, UNCATEGORIZED_PATH, type Taxonomy } from './taxonomy.js';

export interface Classification {
  taxonomy: TaxonomyPath;
  /** Cosine similarity to the chosen centroid; 1 when front matter decided. */
  confidence: number;
}

/**
 * Documents filed at least this confidently shape their node's centroid.
 * Front matter gives 1; a centroid match this strong is rare enough with the
 * lexical embedder that a wrong document seldom drags a node off course.
 */
export const MEMBER_MIN_CONFIDENCE = 0.5;
/** How far members pull a centroid from its description (see the class comment). */
export const MEMBER_WEIGHT = 0.5;

const CacheSchema = z.object({ key: z.string(), centroids: z.array(z.object({ path: z.string(), vector: z.array(z.number()) })) });
const MemberCacheSchema = z.object({
  key: z.string(),
  nodes: z.array(z.object({ path: z.string(), count: z.number().int().positive(), sum: z.array(z.number()) })),
  members: z.array(z.object({ file_path: z.string(), path: z.string() })),
});

interface MemberSet {
  sums: Map<string, { sum: Float32Array; count: number }>;
  memberOf: Map<string, string>;
  /** Σ of every member document vector (all nodes). */
  total: Float32Array | null;
}

function totalOf(sums: MemberSet['sums']): Float32Array | null {
  let total: Float32Array | null = null;
  for (const { sum } of sums.values()) {
    total ??= new Float32Array(sum.length);
    add(total, sum);
  }
  return total;
}

function normalize(v: Float32Array): Float32Array {
  return meanVector([v]);
}

function add(into: Float32Array, v: Float32Array, sign = 1): void {
  const n = Math.min(into.length, v.length);
  for (let i = 0; i < n; i++) into[i]! += sign * v[i]!;
}

function writeAtomic(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic.sync(file, JSON.stringify(value));
}

/**
 * Files documents under the taxonomy by similarity to each node's centroid.
 *
 * A centroid starts as the embedding of the node's name, description and
 * keywords. Once documents are filed, it becomes
 *   normalise(d + MEMBER_WEIGHT × (m − μ))
 * where d is the description vector, m the normalised mean of the node's member
 * documents (filed there by front matter, or with confidence ≥
 * MEMBER_MIN_CONFIDENCE) and μ the normalised mean of all members: the library's
 * common direction. Only what sets a node's documents apart is added. Adding the
 * members themselves (d + Σ members) was measured on the starter library: every
 * document of one project shares so much vocabulary that nodes with members drew
 * in everything, and a document whose node had no other member was filed right
 * 0 times in 19 (leave-one-out); with m − μ it is 19 in 19, against 18 for
 * descriptions alone, and confidences of unrelated text stay low.
 *
 * Both parts are cached under DATA_DIR/centroids: description vectors keyed by
 * the embedder and the taxonomy text, member sums keyed additionally by the
 * member set (paths, hashes, nodes), so any of the three changing rebuilds them.
 */
export class Classifier {
  private members: MemberSet = { sums: new Map(), memberOf: new Map(), total: null };
  private memberKey: string | null = null;
  /** Null until the category descriptions are embedded (from the cache, or by `prepare`). */
  private descriptions: Array<{ path: TaxonomyPath; vector: Float32Array }> | null;
  private centroids: Array<{ path: TaxonomyPath; vector: Float32Array }>;
  private preparing: Promise<void> | null = null;
  private lastError: string | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  private constructor(
    private readonly taxonomy: Taxonomy,
    private readonly embedder: Embedder,
    descriptions: Array<{ path: TaxonomyPath; vector: Float32Array }> | null,
    private readonly minConfidence: number,
    private readonly cacheDir: string,
    private readonly baseKey: string,
  ) {
    this.descriptions = descriptions;
    this.centroids = descriptions ?? [];
  }

  /**
   * Never calls the embedder: the description vectors come from the cache, or
   * later from `prepare`. A remote embedder that is down at startup must not
   * keep the server from starting (issue 12, defect 8); `prepareInBackground`
   * retries until it answers.
   */
  static create(taxonomy: Taxonomy, embedder: Embedder, cacheDir: string, minConfidence: number): Classifier {
    const key = createHash('sha256').update(embedder.id).update('\0').update(taxonomy.source).digest('hex').slice(0, 16);
    const byPath = new Map(taxonomy.leaves.map((l) => [l.path.full_path, l.path]));
    const cached = readCache(path.join(cacheDir, `centroids-${key}.json`), key);
    const descriptions =
      cached && cached.every((c) => byPath.has(c.path))
        ? cached.map((c) => ({ path: byPath.get(c.path) ?? UNCATEGORIZED_PATH, vector: Float32Array.from(c.vector) }))
        : null;
    return new Classifier(taxonomy, embedder, descriptions, minConfidence, cacheDir, key);
  }

  /** Whether documents can be filed: the category descriptions are embedded. */
  get ready(): boolean {
    return this.descriptions !== null;
  }

  /** For /health: ready, or why not and that it is being retried. */
  get status(): { ready: boolean; detail: string } {
    if (this.descriptions) return { ready: true, detail: `taxonomy centroids ready (${this.descriptions.length} categories)` };
    const why = this.lastError ? `embedding the category descriptions failed: ${this.lastError}` : 'embedding the category descriptions';
    return { ready: false, detail: `taxonomy centroids not built yet (${why}); retrying in the background, documents are indexed once the embedder answers` };
  }

  /**
   * Embeds the category descriptions once (concurrent callers share the
   * call) and caches them. Throws the embedder's error when it fails.
   */
  prepare(): Promise<void> {
    if (this.descriptions) return Promise.resolve();
    this.preparing ??= (async () => {
      try {
        const vectors = await this.embedder.embed(this.taxonomy.leaves.map((l) => l.profile), 'document');
        const descriptions = this.taxonomy.leaves.map((l, i) => ({ path: l.path, vector: vectors[i] ?? new Float32Array(this.embedder.dimension) }));
        writeAtomic(path.join(this.cacheDir, `centroids-${this.baseKey}.json`), {
          key: this.baseKey,
          centroids: descriptions.map((c) => ({ path: c.path.full_path, vector: Array.from(c.vector) })),
        });
        this.descriptions = descriptions;
        this.centroids = this.centroidsWithout(null);
        this.lastError = null;
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
        throw e;
      } finally {
        this.preparing = null;
      }
    })();
    return this.preparing;
  }

  /**
   * Resolves once the classifier is ready, retrying `prepare` with doubling
   * delays (capped) until it succeeds or `stop` is called.
   */
  prepareInBackground(options: { firstDelayMs?: number; maxDelayMs?: number } = {}): Promise<void> {
    const first = options.firstDelayMs ?? 1000;
    const max = options.maxDelayMs ?? 60_000;
    return new Promise((resolve) => {
      const attempt = (delay: number) => {
        if (this.stopped) return;
        this.prepare().then(resolve, () => {
          if (this.stopped) return;
          this.retryTimer = setTimeout(() => attempt(Math.min(max, delay * 2)), delay);
          this.retryTimer.unref();
        });
      };
      attempt(first);
    });
  }

  /** Ends background retries (server shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** How many documents currently shape the centroids. */
  get memberCount(): number {
    return this.members.memberOf.size;
  }

  /** Whether a stored document qualifies to shape its node's centroid. */
  isMember(file: Pick<FileRecord, 'taxonomy' | 'confidence'>): boolean {
    return file.confidence >= MEMBER_MIN_CONFIDENCE && this.taxonomy.leaves.some((l) => l.path.full_path === file.taxonomy.full_path);
  }

  /**
   * Brings member centroids in line with the store. Cheap when nothing changed
   * (one listFiles); reads member vectors (no embedding) only on a cache miss.
   */
  async syncMembers(store: VectorStore): Promise<{ members: number; rebuilt: boolean }> {
    const files = (await store.listFiles()).filter((f) => this.isMember(f)).sort((a, b) => a.file_path.localeCompare(b.file_path));
    const signature = createHash('sha256')
      .update(this.baseKey)
      .update(files.map((f) => `${f.file_path}\0${f.file_hash}\0${f.taxonomy.full_path}`).join('\n'))
      .digest('hex')
      .slice(0, 16);
    if (signature === this.memberKey) return { members: files.length, rebuilt: false };
    const file = path.join(this.cacheDir, `members-${signature}.json`);
    const cached = this.readMemberCache(file, signature);
    let rebuilt = false;
    if (cached) {
      this.members = cached;
    } else {
      const members: MemberSet = { sums: new Map(), memberOf: new Map(), total: null };
      for (const f of files) {
        const chunks = await store.fileChunks(f.file_path);
        if (chunks.length === 0) continue;
        const doc = meanVector(chunks.map((c) => c.vector));
        const node = f.taxonomy.full_path;
        const entry = members.sums.get(node) ?? { sum: new Float32Array(doc.length), count: 0 };
        add(entry.sum, doc);
        entry.count += 1;
        members.sums.set(node, entry);
        members.memberOf.set(f.file_path, node);
      }
      members.total = totalOf(members.sums);
      this.members = members;
      this.writeMemberCache(file, signature);
      rebuilt = true;
    }
    this.memberKey = signature;
    this.centroids = this.centroidsWithout(null);
    return { members: this.members.memberOf.size, rebuilt };
  }

  /** Centroids as if `doc` (a member's vector) were not a member; null: all members count. */
  private centroidsWithout(exclude: { node: string; doc: Float32Array } | null): Array<{ path: TaxonomyPath; vector: Float32Array }> {
    const { sums, total } = this.members;
    if (!this.descriptions) return [];
    if (!total) return this.descriptions;
    const all = Float32Array.from(total);
    if (exclude) add(all, exclude.doc, -1);
    const mu = normalize(all);
    return this.descriptions.map((d) => {
      const m = sums.get(d.path.full_path);
      const count = (m?.count ?? 0) - (exclude?.node === d.path.full_path ? 1 : 0);
      if (!m || count <= 0) return d;
      const own = Float32Array.from(m.sum);
      if (exclude?.node === d.path.full_path) add(own, exclude.doc, -1);
      const distinct = normalize(own);
      add(distinct, mu, -1);
      const v = Float32Array.from(d.vector);
      add(v, distinct, MEMBER_WEIGHT);
      return { path: d.path, vector: normalize(v) };
    });
  }

  /**
   * Classifies a document from its chunk vectors; a front-matter category that
   * names a node wins. Given the document's path, a member is compared against
   * its node's centroid without itself, so re-classifying never just confirms
   * where a document already is.
   */
  classify(chunkVectors: Float32Array[], frontMatterCategory?: string, filePath?: string): Classification {
    if (frontMatterCategory) {
      const node = findNode(this.taxonomy, frontMatterCategory);
      if (node) return { taxonomy: node, confidence: 1 };
    }
    if (!this.descriptions) throw new Error(`the taxonomy is not ready to file documents: ${this.status.detail}; call prepare() first`);
    if (chunkVectors.length === 0) return { taxonomy: UNCATEGORIZED_PATH, confidence: 0 };
    const doc = meanVector(chunkVectors);
    const ownNode = filePath ? this.members.memberOf.get(filePath) : undefined;
    const centroids = ownNode ? this.centroidsWithout({ node: ownNode, doc }) : this.centroids;
    let best: { path: TaxonomyPath; score: number } = { path: UNCATEGORIZED_PATH, score: -1 };
    for (const c of centroids) {
      const score = cosine(doc, c.vector);
      if (score > best.score) best = { path: c.path, score };
    }
    const confidence = Math.max(0, best.score);
    return confidence < this.minConfidence ? { taxonomy: UNCATEGORIZED_PATH, confidence } : { taxonomy: best.path, confidence };
  }

  private readMemberCache(file: string, key: string): MemberSet | null {
    try {
      const parsed = MemberCacheSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success || parsed.data.key !== key) return null;
      const known = new Set(this.taxonomy.leaves.map((l) => l.path.full_path));
      if (!parsed.data.nodes.every((n) => known.has(n.path))) return null;
      const sums = new Map(parsed.data.nodes.map((n) => [n.path, { sum: Float32Array.from(n.sum), count: n.count }]));
      return { sums, memberOf: new Map(parsed.data.members.map((m) => [m.file_path, m.path])), total: totalOf(sums) };
    } catch {
      return null;
    }
  }

  /** Keeps one member cache: older ones describe member sets that no longer exist. */
  private writeMemberCache(file: string, key: string): void {
    writeAtomic(file, {
      key,
      nodes: [...this.members.sums].map(([p, m]) => ({ path: p, count: m.count, sum: Array.from(m.sum) })),
      members: [...this.members.memberOf].map(([file_path, p]) => ({ file_path, path: p })),
    });
    try {
      for (const name of readdirSync(this.cacheDir)) {
        if (/^members-[0-9a-f]+\.json$/.test(name) && name !== path.basename(file)) rmSync(path.join(this.cacheDir, name), { force: true });
      }
    } catch {
      // A stale cache file left behind costs disk, never correctness.
    }
  }
}

function readCache(file: string, key: string): Array<{ path: string; vector: number[] }> | null {
  try {
    const parsed = CacheSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success && parsed.data.key === key ? parsed.data.centroids : null;
  } catch {
    return null;
  }
}
