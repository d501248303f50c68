import { describe, expect, it } from 'vitest';
import { FILTER_ROWS_MAX, FilterKnowledge, countedRows } from '../../server/stores/embedded/filter-knowledge.js';

/** A filter passing the even rowids, counting how it was asked. */
function evens(total = 1000) {
  const calls = { lookup: 0, readAll: 0 };
  return {
    calls,
    lookup: (candidates: number[]) => () => {
      calls.lookup++;
      return candidates.filter((r) => r % 2 === 0);
    },
    readAll: (limit: number) => {
      calls.readAll++;
      return Array.from({ length: total }, (_, i) => (total - i) * 2).slice(0, limit);
    },
  };
}

describe('FilterKnowledge', () => {
  it('tests the first use in SQL, reads the filter’s rows at the second, and answers from them after, in the candidates’ order', () => {
    const cache = new FilterKnowledge();
    const f = evens();
    const candidates = [9, 8, 4000, 2, 3, 6];
    expect(cache.passing('f', 's1', candidates, f.lookup(candidates), f.readAll)).toEqual([8, 4000, 2, 6]);
    expect(f.calls).toEqual({ lookup: 1, readAll: 0 });
    expect(cache.passing('f', 's1', candidates, f.lookup(candidates), f.readAll)).toEqual([8, 2, 6]);
    expect(cache.passing('f', 's1', [2002, 1998, 1], f.lookup([]), f.readAll)).toEqual([1998]);
    expect(f.calls).toEqual({ lookup: 1, readAll: 1 });
  });

  it('forgets the rows when the change stamp moves', () => {
    const cache = new FilterKnowledge();
    const f = evens();
    cache.passing('f', 's1', [2], f.lookup([2]), f.readAll);
    cache.passing('f', 's1', [2], f.lookup([2]), f.readAll);
    expect(cache.passing('f', 's2', [2, 4], f.lookup([2, 4]), f.readAll)).toEqual([2, 4]);
    expect(f.calls).toEqual({ lookup: 2, readAll: 1 });
  });

  it(`keeps testing in SQL a filter of more than ${FILTER_ROWS_MAX} rows, and reads them once per stamp`, () => {
    const cache = new FilterKnowledge();
    const f = evens(FILTER_ROWS_MAX + 10);
    for (let i = 0; i < 4; i++) expect(cache.passing('big', 's1', [4, 5], f.lookup([4, 5]), f.readAll)).toEqual([4]);
    expect(f.calls).toEqual({ lookup: 4, readAll: 1 });
  });

  it('counts a filter once per stamp for a cap it decides, and not at all once its rows are held', () => {
    const known = new FilterKnowledge();
    const counts: number[] = [];
    const count = (rows: number) => (cap: number) => {
      counts.push(cap);
      return Math.min(rows, cap + 1);
    };
    const s1 = known.at('f', 's1');
    expect(known.rowsUpTo(s1, 100, count(500)) <= 100).toBe(false);
    // A smaller cap is decided by the count up to 100; a larger one needs a new count.
    expect(known.rowsUpTo(s1, 50, count(500)) <= 50).toBe(false);
    expect(known.rowsUpTo(s1, 1000, count(500)) <= 1000).toBe(true);
    expect(countedRows(s1)).toBe(500);
    expect(known.rowsUpTo(s1, 499, count(500)) <= 499).toBe(false);
    expect(counts).toEqual([100, 1000]);

    // The rows held at a stamp answer the count: SQLite is not asked.
    const f = evens(300);
    known.passing('g', 's1', [2], f.lookup([2]), f.readAll);
    known.passing('g', 's1', [2], f.lookup([2]), f.readAll);
    const g = known.at('g', 's1');
    expect(known.rowsUpTo(g, 299, count(300)) <= 299).toBe(false);
    expect(countedRows(g)).toBeNull();
    expect(known.rowsUpTo(g, 300, count(300)) <= 300).toBe(true);
    expect(countedRows(g)).toBe(300);
    expect(counts).toEqual([100, 1000]);
  });

  it('keeps the share a filter passed at when the stamp moves, and forgets its count and rows', () => {
    const known = new FilterKnowledge();
    const s1 = known.at('f', 's1');
    s1.share = 0.25;
    s1.rowsUpTo = { cap: 100, rows: 40 };
    expect(known.at('f', 's1')).toBe(s1);
    const s2 = known.at('f', 's2');
    expect(s2.share).toBe(0.25);
    expect(known.share('f')).toBe(0.25);
    expect(countedRows(s2)).toBeNull();
    expect(s2.rows).toBeNull();
  });
});
