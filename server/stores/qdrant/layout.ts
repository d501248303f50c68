import type { Schemas } from '@qdrant/js-client-rest';
import { z } from 'zod';
import { CONTENT_TYPES, type ChunkPayload } from '../../../shared/api-types.js';
import type { PROFILES } from '../../config/schema.js';

/** The collection's layout: named vectors, profiles, payload keys and indexes, and the schemas payloads are read back with. */

export type VectorProfile = (typeof PROFILES)[number];

interface ProfileParams {
  /** HNSW graph degree: more links, better recall, more memory and slower builds. */
  m: number;
  /** Candidate list while building the graph. */
  ef_construct: number;
  /** Candidate list at query time (sent with every dense query). */
  hnsw_ef: number;
  /** Scalar int8 quantization of the dense vectors. */
  int8: boolean;
}

/**
 * `vector.profile`. int8 (fast_query only) keeps a 4x smaller copy of every
 * vector in RAM and scores with it, which is faster and cheaper but loses a
 * little precision; the top candidates are re-scored against the original
 * float vectors (rescore, 2x oversampling) so that loss mostly disappears from
 * the final ranking. The other two keep full floats and trade speed for recall
 * through the graph size (m, ef_construct) and the query beam (hnsw_ef).
 */
export const VECTOR_PROFILES: Readonly<Record<VectorProfile, ProfileParams>> = {
  high_accuracy: { m: 32, ef_construct: 256, hnsw_ef: 256, int8: false },
  balanced: { m: 16, ef_construct: 128, hnsw_ef: 128, int8: false },
  fast_query: { m: 16, ef_construct: 100, hnsw_ef: 64, int8: true },
};

export const DENSE_VECTOR = 'dense';
export const SPARSE_VECTOR = 'bm25';
export const BM25_MODEL = 'qdrant/bm25';
/** Collection metadata arrived in 1.16; server-side BM25 in 1.15.2. */
export const MIN_QDRANT_VERSION: readonly [number, number] = [1, 16];

/** Qdrant refuses request bodies over 32 MB. */
export const REQUEST_CAP_BYTES = 32 * 1024 * 1024;
/** Headroom under the cap for the request envelope and estimate error. */
export const BATCH_BYTE_BUDGET = 24 * 1024 * 1024;
/** Keeps one request's server-side work (BM25 inference, HNSW inserts) short. */
export const MAX_BATCH_POINTS = 256;
export const SCROLL_PAGE = 1000;

/** Qdrant-only payload keys beside ChunkPayload; stripped again on every read. */
export const FILE_KEY = 'file';
export const DIRS_KEY = 'file_dirs';
/** The collection metadata key holding the embedder (metaSchema); the admin reads it for backups. */
export const META_KEY = 'ai_library';

/**
 * The payload indexes filters need (docs/production.md, step 2), created right after the collection,
 * plus `file_dirs`: a keyword index can only match whole values, so a folder
 * filter ("docs/api/") matches one of the file's ancestor folders stored there.
 */
export const PAYLOAD_INDEXES: ReadonlyArray<{ field: string; schema: Schemas['PayloadSchemaType'] }> = [
  { field: 'content_type', schema: 'keyword' },
  { field: 'taxonomy.full_path', schema: 'keyword' },
  { field: 'taxonomy.level1', schema: 'keyword' },
  { field: 'taxonomy.level2', schema: 'keyword' },
  { field: 'file_path', schema: 'keyword' },
  { field: 'content_hash', schema: 'keyword' },
  { field: 'classification.confidence', schema: 'float' },
  { field: 'created_at', schema: 'datetime' },
  { field: 'updated_at', schema: 'datetime' },
  { field: DIRS_KEY, schema: 'keyword' },
];

const taxonomySchema = z.object({ full_path: z.string(), level1: z.string(), level2: z.string().nullable() });

export const chunkPayloadSchema: z.ZodType<ChunkPayload, z.ZodTypeDef, unknown> = z.object({
  file_path: z.string(),
  content: z.string(),
  content_type: z.enum(CONTENT_TYPES),
  language: z.string().nullable(),
  section: z.string(),
  start_line: z.number(),
  end_line: z.number(),
  chunk_index: z.number(),
  content_hash: z.string(),
  file_hash: z.string(),
  taxonomy: taxonomySchema,
  classification: z.object({ confidence: z.number() }),
  contributor: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const fileFieldsSchema = z.object({
  file_path: z.string(),
  file_hash: z.string(),
  content_type: z.enum(CONTENT_TYPES),
  taxonomy: taxonomySchema,
  classification: z.object({ confidence: z.number() }),
  contributor: z.string().nullable(),
  updated_at: z.string(),
  [FILE_KEY]: z.object({ chunk_count: z.number(), indexed_at: z.string() }).optional(),
});
export const FILE_FIELDS = ['file_path', 'file_hash', 'content_type', 'taxonomy', 'classification', 'contributor', 'updated_at', FILE_KEY];

export const metaSchema = z.object({ embedder_id: z.string(), dimension: z.number() });

export const PAYLOAD_WITHOUT_EXTRAS: Schemas['WithPayloadInterface'] = { exclude: [FILE_KEY, DIRS_KEY] };
