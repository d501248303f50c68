/**
 * What the embedded store has learnt about each search filter (search.ts),
 * one entry a filter:
 *
 * - The share of graph candidates that passed it. A filtered dense search
 *   used to count the filter's rows and ask the graph for an unfiltered pool
 *   before it knew the share: at 30k clustered vectors and a 15 % filter those
 *   two steps were a third of the search's CPU, and the same filter usually
 *   comes again (a developer's folder or taxonomy scope in the panel). The
 *   share outlives writes, as the first guess that sizes the next request.
 * - Its rows at one database state: counted as far as a search needed to
 *   know them (few enough to scan exactly?), and, from the filter's second
 *   use on, held as sorted rowids. A filtered search tests every graph
 *   candidate against its filter, and its keyword side its best-ranked rows:
 *   at 1M chunks a 5 % folder filter's 2,500 candidates took 9 ms as lookups
 *   in SQLite's filter-columns index, where the folder's 50,000 rowids held
 *   in memory answer them in a fraction of a millisecond. Held rows also
 *   answer a count without asking SQLite.
 *
 * Results stay exact whatever is known here: a share only sizes work, and
 * counts and rows are used only at the change stamp they were read at
 * (database.ts, changeStamp: it moves with every write, this connection's or
 * another's).
 */
import { LRUCache } from 'lru-cache';

/** A filter matching more rows is not held (its array would cost more to read than its lookups). */
export const FILTER_ROWS_MAX = 200_000;
/** Rowids held across every filter, least recently used dropped first: 4 bytes each (8 past 2^32). */
const HELD_ROWS_MAX = 2_000_000;
/** Filters remembered; a store sees a handful in practice, this only bounds a client that varies them on purpose. */
const FILTERS_MAX = 256;

type Rowids = Uint32Array | Float64Array;

/** What is known of one filter at one change stamp. */
export interface FilterFacts {
  readonly stamp: string;
  /** The share of graph candidates that passed (search.ts, nextShare), or null before any graph search with it; kept across stamps. */
  share: number | null;
  /** The filter's rows counted up to `cap` plus one (rowsUpTo), or null until a search needs them at this stamp. */
  rowsUpTo: { cap: number; rows: number } | null;
  /** Ascending rowids passing the filter, or null: not read at this stamp, or more than FILTER_ROWS_MAX. */
  rows: Rowids | null;
  /** Candidates were tested against the filter in SQL once at this stamp: its rows are read at the next test. */
  tested: boolean;
  /** The filter matches more than FILTER_ROWS_MAX rows: its candidates are always tested in SQL. */
  tooMany: boolean;
}

export class FilterKnowledge {
  private readonly byFilter = new LRUCache<string, FilterFacts>({
    max: FILTERS_MAX,
    maxSize: HELD_ROWS_MAX,
    sizeCalculation: (facts) => Math.max(1, facts.rows?.length ?? 0),
  });

  /** The remembered share of graph candidates that passed `key`, if a search has seen one (a guess at any stamp). */
  share(key: string): number | null {
    return this.byFilter.get(key)?.share ?? null;
  }

  /** What is known of `key` at `stamp`: counts and rows read at another stamp are forgotten, the share is kept. */
  at(key: string, stamp: string): FilterFacts {
    const known = this.byFilter.get(key);
    if (known?.stamp === stamp) return known;
    const facts: FilterFacts = { stamp, share: known?.share ?? null, rowsUpTo: null, rows: null, tested: false, tooMany: false };
    this.byFilter.set(key, facts);
    return facts;
  }

  /**
   * The filter's rows counted up to `cap`, or a number above `cap` when it
   * matches more: from an earlier count that decides it, else counted on its
   * held rows or by `count` (up to the cap, plus one); remembered at this stamp.
   */
  rowsUpTo(facts: FilterFacts, cap: number, count: (cap: number) => number): number {
    const known = facts.rowsUpTo;
    // Known exactly (under its cap), or known to pass a cap at least as large.
    if (known !== null && (known.rows <= known.cap || known.cap >= cap)) return known.rows;
    const rows = facts.rows === null ? count(cap) : Math.min(facts.rows.length, cap + 1);
    facts.rowsUpTo = { cap, rows };
    return rows;
  }

  /**
   * The rowids among `candidates` that pass the filter `key` at `stamp`, in
   * their order. `lookup` tests them in SQL; `readAll` reads the filter's
   * rowids, at most `limit` of them.
   */
  passing(key: string, stamp: string, candidates: readonly number[], lookup: () => number[], readAll: (limit: number) => number[]): number[] {
    const facts = this.at(key, stamp);
    if (!facts.tested) {
      facts.tested = true;
      return lookup();
    }
    if (facts.rows === null && !facts.tooMany) {
      const all = readAll(FILTER_ROWS_MAX + 1);
      if (all.length > FILTER_ROWS_MAX) facts.tooMany = true;
      else {
        // A typed array sorts numerically; rowids past 2^32 (SQLite allows 2^63) need 8 bytes.
        facts.rows = all.every((r) => r <= 0xffffffff) ? Uint32Array.from(all).sort() : Float64Array.from(all).sort();
        // Set again so that its rows count against HELD_ROWS_MAX.
        this.byFilter.set(key, facts);
      }
    }
    const rows = facts.rows;
    if (rows === null) return lookup();
    return candidates.filter((r) => holds(rows, r));
  }
}

/** The filter's rows, when a count (rowsUpTo) found them under its cap. */
export function countedRows(facts: FilterFacts): number | null {
  const counted = facts.rowsUpTo;
  return counted !== null && counted.rows <= counted.cap ? counted.rows : null;
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
