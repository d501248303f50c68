import writeFileAtomic from 'write-file-atomic';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { TaxonomyPath } from '../../shared/api-types.js';
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
/**
 * How far below the members' own scores a document may fall and still be
 * filed, in standard deviations (see `hasEvidence`). Measured on the starter
 * library with the local embedder (eval/filing.ts): members' best-category
 * cosines are 0.38-0.54 and their cosines to μ 0.66-0.80 (σ about 0.04 for
 * both); new notes on the library's topics reach 0.37-0.53 on their category,
 * while out-of-domain text (a Python rate limiter, a recipe, licences, other
 * projects' READMEs) stays at 0.10-0.23 and 0.13-0.49: more than 5 σ below on
 * both. Calibrating on the members keeps the rule meaningful for embedders
 * whose cosines live in another range (Mistral's are all higher).
 */
export const EVIDENCE_SIGMAS = 3;
/** Fewer members than this say too little about what the library holds: only taxonomy.min_confidence applies. */
export const MIN_EVIDENCE_MEMBERS = 5;

const CacheSchema = z.object({ key: z.string(), centroids: z.array(z.object({ path: z.string(), vector: z.array(z.number()) })) });
const StatsSchema = z.object({ mean: z.number(), std: z.number(), count: z.number().int() });
type Stats = z.infer<typeof StatsSchema>;
const MemberCacheSchema = z.object({
  key: z.string(),
  // Absent in caches written before the evidence check: read as a miss, so they are rebuilt.
  domain: StatsSchema.nullable().optional(),
  category: StatsSchema.nullable().optional(),
  nodes: z.array(z.object({ path: z.string(), count: z.number().int().positive(), sum: z.array(z.number()) })),
  members: z.array(z.object({ file_path: z.string(), path: z.string() })),
});

interface MemberSet {
  sums: Map<string, { sum: Float32Array; count: number }>;
  memberOf: Map<string, string>;
  /** Σ of every member document vector (all nodes). */
  total: Float32Array | null;
  /** Members' cosines to μ, each without itself; null with fewer than MIN_EVIDENCE_MEMBERS. */
  domain: Stats | null;
  /** Members' cosines to their best centroid, each without itself; null also while the descriptions are not embedded. */
  category: Stats | null;
}

function statsOf(values: number[]): Stats | null {
  if (values.length < MIN_EVIDENCE_MEMBERS) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, std, count: values.length };
}

function near(value: number, s: Stats): boolean {
  return value >= s.mean - EVIDENCE_SIGMAS * s.std;
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
  private members: MemberSet = { sums: new Map(), memberOf: new Map(), total: null, domain: null, category: null };
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
        // The members' category scores need the descriptions: the next sync measures them.
        this.memberKey = null;
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
      const members: MemberSet = { sums: new Map(), memberOf: new Map(), total: null, domain: null, category: null };
      const docs: Array<{ node: string; doc: Float32Array }> = [];
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
        docs.push({ node, doc });
      }
      members.total = totalOf(members.sums);
      this.members = members;
      this.measureMembers(docs);
      this.writeMemberCache(file, signature);
      rebuilt = true;
    }
    this.memberKey = signature;
    this.centroids = this.centroidsWithout(null);
    return { members: this.members.memberOf.size, rebuilt };
  }

  /** The members' own scores (each without itself), which `hasEvidence` compares a new document with. */
  private measureMembers(docs: Array<{ node: string; doc: Float32Array }>): void {
    const total = this.members.total;
    if (!total) return;
    this.members.domain = statsOf(docs.map(({ node, doc }) => cosine(doc, this.libraryMean(node, doc) ?? total)));
    this.members.category = this.descriptions
      ? statsOf(docs.map(({ node, doc }) => Math.max(...this.centroidsWithout({ node, doc }).map((c) => cosine(doc, c.vector)))))
      : null;
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
    const best = this.rank(chunkVectors, filePath)[0];
    if (!best) return { taxonomy: UNCATEGORIZED_PATH, confidence: 0 };
    const confidence = Math.max(0, best.score);
    if (confidence < this.minConfidence || !this.hasEvidence(meanVector(chunkVectors), best.score, filePath)) {
      return { taxonomy: UNCATEGORIZED_PATH, confidence };
    }
    return { taxonomy: best.path, confidence };
  }

  /**
   * Whether a document scores like the library's own members on at least one
   * of two measures (within EVIDENCE_SIGMAS of them): its best category (it
   * says what a category says, as a short note on one topic does), or the
   * library's common direction μ (it is about what the library is about, as
   * a long document spanning several categories is). One category's words
   * alone are not enough: a Python rate limiter shares "token", "rate" and
   * "limit" with Access Control's description, scores 0.23 there against the
   * members' 0.46 ± 0.04, and is far from μ too. True while there are too few
   * members to judge.
   */
  private hasEvidence(doc: Float32Array, best: number, filePath?: string): boolean {
    const { domain, category } = this.members;
    const ownNode = filePath ? this.members.memberOf.get(filePath) : undefined;
    const mu = this.libraryMean(ownNode, doc);
    if (!domain || !category || !mu) return true;
    return near(best, category) || near(cosine(doc, mu), domain);
  }

  /** Every node's cosine to the document, best first (members compared without themselves, as in `classify`). */
  rank(chunkVectors: Float32Array[], filePath?: string): Array<{ path: TaxonomyPath; score: number }> {
    if (chunkVectors.length === 0) return [];
    const doc = meanVector(chunkVectors);
    const ownNode = filePath ? this.members.memberOf.get(filePath) : undefined;
    const centroids = ownNode ? this.centroidsWithout({ node: ownNode, doc }) : this.centroids;
    return centroids.map((c) => ({ path: c.path, score: cosine(doc, c.vector) })).sort((a, b) => b.score - a.score);
  }

  /** The library's common direction μ (see the class comment), without `doc` when `ownNode` says it is a member; null before any member. */
  private libraryMean(ownNode: string | undefined, doc: Float32Array): Float32Array | null {
    const { total } = this.members;
    if (!total) return null;
    const all = Float32Array.from(total);
    if (ownNode) add(all, doc, -1);
    return normalize(all);
  }

  private readMemberCache(file: string, key: string): MemberSet | null {
    try {
      const parsed = MemberCacheSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success || parsed.data.key !== key) return null;
      const { domain, category } = parsed.data;
      // Measured before the evidence check existed, or before the descriptions were embedded: measure again.
      if (domain === undefined || category === undefined || (domain !== null && category === null && this.descriptions)) return null;
      const known = new Set(this.taxonomy.leaves.map((l) => l.path.full_path));
      if (!parsed.data.nodes.every((n) => known.has(n.path))) return null;
      const sums = new Map(parsed.data.nodes.map((n) => [n.path, { sum: Float32Array.from(n.sum), count: n.count }]));
      return { sums, memberOf: new Map(parsed.data.members.map((m) => [m.file_path, m.path])), total: totalOf(sums), domain, category };
    } catch {
      return null;
    }
  }

  /** Keeps one member cache: older ones describe member sets that no longer exist. */
  private writeMemberCache(file: string, key: string): void {
    writeAtomic(file, {
      key,
      domain: this.members.domain,
      category: this.members.category,
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
