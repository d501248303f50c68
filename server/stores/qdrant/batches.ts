import { BATCH_BYTE_BUDGET, MAX_BATCH_POINTS } from './layout.js';

/** Splits points into upsert requests that stay under Qdrant's 32 MB body cap. */
export function planBatches<T>(items: T[], bytesOf: (item: T) => number, maxBytes = BATCH_BYTE_BUDGET, maxItems = MAX_BATCH_POINTS): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = bytesOf(item);
    if (current.length > 0 && (size + bytes > maxBytes || current.length >= maxItems)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes + 1;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Scroll's next offset; the schema also allows objects, which point ids never are. */
export function nextOffset(v: unknown): string | number | null {
  return typeof v === 'string' || typeof v === 'number' ? v : null;
}
