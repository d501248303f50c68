import { describe, expect, it } from 'vitest';
import { CLONE_WEIGHT, CloneMatcher, rerankByCloneMatch } from '../../server/retrieval/clone-match.js';
import type { Ranked } from '../../server/retrieval/rerank.js';
import type { ScoredPoint } from '../../server/stores/vector-store.js';

const ORIGINAL = `function failTest(self, test, err) {
  self.failures++;
  self.emit(constants.EVENT_TEST_FAIL, test, err);
  self.emit(constants.EVENT_TEST_END, test);
  return self.hookUp(HOOK_TYPE_AFTER_EACH, next);
}`;
/** The same lines with the locals renamed, as a near-copy elsewhere would have them. */
const SELECTION = `  runner.failures++;
  runner.emit(constants.EVENT_TEST_FAIL, t, e);
  runner.emit(constants.EVENT_TEST_END, t);
  return runner.hookUp(HOOK_TYPE_AFTER_EACH, next);`;
/** Every name of the selection, none of its order. */
const TABLE = `const constants = {
  EVENT_TEST_END: 'test end',
  EVENT_TEST_FAIL: 'fail',
  HOOK_TYPE_AFTER_EACH: 'afterEach',
  emit: 'emit', hookUp: 'hookUp', failures: 'failures', next: 'next',
};`;

describe('CloneMatcher', () => {
  it('finds a copy with renamed locals whole, and a table of the same names barely', () => {
    const matcher = new CloneMatcher(SELECTION);
    expect(matcher.containment(ORIGINAL)).toBe(1);
    expect(matcher.containment(TABLE)).toBeLessThan(0.2);
  });

  it('reads any language by its tokens', () => {
    const python = 'def retry(job, attempts):\n    for attempt in range(attempts):\n        if job.run():\n            return True\n    return False';
    const renamed = '    for n in range(tries):\n        if task.run():\n            return True';
    expect(new CloneMatcher(renamed).containment(python)).toBe(1);
    expect(new CloneMatcher(renamed).containment('def run(task):\n    return task.tries in range(3)')).toBe(0);
  });

  it('stays exact when the shared vocabulary is too large for numeric k-gram keys', () => {
    const words = Array.from({ length: 12000 }, (_, i) => `w${i}`);
    const text = words.join(' ');
    expect(new CloneMatcher(text).containment(text)).toBe(1);
    expect(new CloneMatcher(text).containment([...words].reverse().join(' '))).toBe(0);
  });

  it('scores 0 for a selection too short to hold a k-gram and for unrelated text', () => {
    expect(new CloneMatcher('next()').containment(ORIGINAL)).toBe(0);
    expect(new CloneMatcher(SELECTION).containment('Unrelated notes about coffee and lunch breaks.')).toBe(0);
  });
});

describe('rerankByCloneMatch', () => {
  const point = (id: string, content: string): ScoredPoint => ({
    id,
    dense: null,
    keyword: null,
    fused: 0,
    payload: {
      file_path: `src/${id}.js`, content, section: id, start_line: 1, end_line: 5, chunk_index: 0, content_type: 'code', language: 'javascript',
      taxonomy: { full_path: 'engineering', level1: 'engineering', level2: null }, classification: { confidence: 1 }, content_hash: id, file_hash: id, contributor: null,
      created_at: '2026-12-01T00:00:00.000Z', updated_at: '2026-12-01T00:00:00.000Z',
    },
  });

  it('lifts the copy above a chunk that only shares its names, by at most CLONE_WEIGHT', () => {
    const ranked: Ranked[] = [
      { point: point('table', TABLE), score: 1.2 },
      { point: point('copy', ORIGINAL), score: 1.0 },
    ];
    const out = rerankByCloneMatch(SELECTION, ranked);
    expect(out.map((r) => r.point.id)).toEqual(['copy', 'table']);
    expect(out[0]?.score).toBeCloseTo(1.0 + CLONE_WEIGHT);
  });
});
