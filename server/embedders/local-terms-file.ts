import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { modelVersion, TERM_DIMENSION, type TermModel } from './local-terms.js';

/** The learned term model lives beside the store, under DATA_DIR (docs/retrieval.md). */
export const TERM_MODEL_FILE = 'local-terms.bin';

const FORMAT = 'ai-library-local-terms/1';

const headerSchema = z.object({
  format: z.literal(FORMAT),
  dimension: z.literal(TERM_DIMENSION),
  documents: z.number().int().nonnegative(),
  version: z.string().regex(/^[0-9a-f]{12}$/),
  terms: z.array(z.string()),
});

/**
 * Layout: 4-byte little-endian header length, the JSON header (terms in
 * vocabulary order), then document frequencies (uint32 per term) and the
 * term vectors (float32, TERM_DIMENSION per term), both little-endian.
 */
export function saveTermModel(dataDir: string, model: TermModel): void {
  const terms = [...model.terms.keys()];
  const header = Buffer.from(JSON.stringify({ format: FORMAT, dimension: TERM_DIMENSION, documents: model.documents, version: model.version, terms }), 'utf8');
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(header.length, 0);
  const df = Buffer.from(model.df.buffer, model.df.byteOffset, model.df.byteLength);
  const vectors = Buffer.from(model.vectors.buffer, model.vectors.byteOffset, model.vectors.byteLength);
  const file = path.join(dataDir, TERM_MODEL_FILE);
  // Written aside and renamed, so a crash never leaves half a model that the next start would trust.
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, Buffer.concat([prefix, header, df, vectors]), { mode: 0o600 });
  renameSync(temp, file);
}

/** The saved model, or null when there is none yet. A damaged file is an error that names the fix. */
export function loadTermModel(dataDir: string): TermModel | null {
  const file = path.join(dataDir, TERM_MODEL_FILE);
  if (!existsSync(file)) return null;
  const damaged = (why: string) =>
    new Error(`${file}: ${why}; delete it and run \`npm run index -- --all\` to learn the local embedder's term model again`);
  const bytes = readFileSync(file);
  if (bytes.length < 4) throw damaged('too short to be a term model');
  const headerLength = bytes.readUInt32LE(0);
  let json: unknown;
  try {
    json = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8'));
  } catch {
    throw damaged('its header is not JSON');
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) throw damaged(`its header is not a term model of this version (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  const { terms, documents, version } = parsed.data;
  const start = 4 + headerLength;
  const dfBytes = terms.length * 4;
  const vectorBytes = terms.length * TERM_DIMENSION * 4;
  if (bytes.length !== start + dfBytes + vectorBytes) throw damaged(`it holds ${bytes.length} bytes, not the ${start + dfBytes + vectorBytes} its header promises`);
  // Copied out, so the typed arrays are aligned whatever the header length was.
  const df = new Uint32Array(terms.length);
  Buffer.from(df.buffer).set(bytes.subarray(start, start + dfBytes));
  const vectors = new Float32Array(terms.length * TERM_DIMENSION);
  Buffer.from(vectors.buffer).set(bytes.subarray(start + dfBytes));
  if (modelVersion(terms, df, vectors, documents) !== version) throw damaged('its content does not match its version hash');
  return { documents, terms: new Map(terms.map((t, i) => [t, i])), df, vectors, version };
}
