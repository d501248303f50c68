import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

/** Fixed namespace so ids are the same on every machine and in every store. */
const POINT_NAMESPACE = '6f1c3f0e-8a8e-5b7e-9d54-3b1f0c2a9e11';

/**
 * Deterministic point id from (file path, chunk ordinal, content hash): the same
 * content re-indexed gets the same id, so upserts replace instead of duplicating.
 * UUIDs because Qdrant accepts only UUIDs or integers as point ids.
 */
export function pointId(filePath: string, ordinal: number, contentHash: string): string {
  return uuidv5(`${filePath}\n${ordinal}\n${contentHash}`, POINT_NAMESPACE);
}

export function md5(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
}
