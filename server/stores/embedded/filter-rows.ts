/**
 * The rowids a search filter passes, held in memory while the database is
 * unchanged: a filtered dense search tests every graph candidate against its
 * filter, and a filtered keyword search its best-ranked rows (search.ts,
 * `passing`); at 1M chunks a 5 % folder filter's 2,500
 * candidates took 9 ms as lookups in SQLite's filter-columns index, where a
 * sorted array of the folder's 50,000 rowids answers them in a fraction of a
 * millisecond. The same filter usually comes again (a developer's folder or
 * taxonomy scope in the panel), so a filter's rows are read on its second use
 * at the same database state, not its first.
 *
 * Results stay exact: an entry is used only at the change stamp it was read
 * at (stamp: SQLite's data_version, which moves when another connection
 * commits, and this connection's total_changes(), which counts its own
 * writes, triggers' included).
 */
import { LRUCache } from 'lru-cache';

/** A filter matching more rows is not held (its array would cost more to read than its lookups). */
export const FILTER_ROWS_MAX = 200_000;
/** Rowids held across every filter, least recently used dropped first: 4 bytes each (8 past 2^32). */
const HELD_ROWS_MAX = 2_000_000;
/** Filters remembered; a store sees a handful in practice, this only bounds a client that varies them on purpose. */
const FILTERS_MAX = 256;

type Rowids = Uint32Array | Float64Array;

interface Entry {
  stamp: string;
  /** Ascending rowids, or null: seen once at this stamp, or more rows than FILTER_ROWS_MAX. */
  rows: Rowids | null;
  tooMany: boolean;
}

export class FilterRowsCache {
  private readonly byFilter = new LRUCache<string, Entry>({
    max: FILTERS_MAX,
    maxSize: HELD_ROWS_MAX,
    sizeCalculation: (entry) => Math.max(1, entry.rows?.length ?? 0),
  });

  /**
   * The rowids among `candidates` that pass the filter `key`, in their order.
   * `lookup` tests them in SQL; `readAll` reads the filter's rowids, at most
   * `limit` of them.
   */
  passing(key: string, stamp: string, candidates: readonly number[], lookup: () => number[], readAll: (limit: number) => number[]): number[] {
    const entry = this.byFilter.get(key);
    if (entry === undefined || entry.stamp !== stamp) {
      this.byFilter.set(key, { stamp, rows: null, tooMany: false });
      return lookup();
    }
    if (entry.rows === null && !entry.tooMany) {
      const all = readAll(FILTER_ROWS_MAX + 1);
      if (all.length > FILTER_ROWS_MAX) entry.tooMany = true;
      else {
        // A typed array sorts numerically; rowids past 2^32 (SQLite allows 2^63) need 8 bytes.
        entry.rows = all.every((r) => r <= 0xffffffff) ? Uint32Array.from(all).sort() : Float64Array.from(all).sort();
        // Set again so that its rows count against HELD_ROWS_MAX.
        this.byFilter.set(key, entry);
      }
    }
    const rows = entry.rows;
    if (rows === null) return lookup();
    return candidates.filter((r) => holds(rows, r));
  }
}

/** Whether the ascending `rows` hold `rowid` (binary search). */
function holds(rows: Rowids, rowid: number): boolean {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = rows[mid]!;
    if (v === rowid) return true;
    if (v < rowid) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
