import { describe, expect, it } from 'vitest';
import { FILTER_ROWS_MAX, FilterRowsCache } from '../../server/stores/embedded/filter-rows.js';

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

describe('FilterRowsCache', () => {
  it('tests the first use in SQL, reads the filter’s rows at the second, and answers from them after, in the candidates’ order', () => {
    const cache = new FilterRowsCache();
    const f = evens();
    const candidates = [9, 8, 4000, 2, 3, 6];
    expect(cache.passing('f', 's1', candidates, f.lookup(candidates), f.readAll)).toEqual([8, 4000, 2, 6]);
    expect(f.calls).toEqual({ lookup: 1, readAll: 0 });
    expect(cache.passing('f', 's1', candidates, f.lookup(candidates), f.readAll)).toEqual([8, 2, 6]);
    expect(cache.passing('f', 's1', [2002, 1998, 1], f.lookup([]), f.readAll)).toEqual([1998]);
    expect(f.calls).toEqual({ lookup: 1, readAll: 1 });
  });

  it('forgets the rows when the change stamp moves', () => {
    const cache = new FilterRowsCache();
    const f = evens();
    cache.passing('f', 's1', [2], f.lookup([2]), f.readAll);
    cache.passing('f', 's1', [2], f.lookup([2]), f.readAll);
    expect(cache.passing('f', 's2', [2, 4], f.lookup([2, 4]), f.readAll)).toEqual([2, 4]);
    expect(f.calls).toEqual({ lookup: 2, readAll: 1 });
  });

  it(`keeps testing in SQL a filter of more than ${FILTER_ROWS_MAX} rows, and reads them once per stamp`, () => {
    const cache = new FilterRowsCache();
    const f = evens(FILTER_ROWS_MAX + 10);
    for (let i = 0; i < 4; i++) expect(cache.passing('big', 's1', [4, 5], f.lookup([4, 5]), f.readAll)).toEqual([4]);
    expect(f.calls).toEqual({ lookup: 4, readAll: 1 });
  });
});
