import { describe, expect, it } from 'vitest';
import { computeConfidence, CONFIDENCE_WEIGHTS, usedSources } from '../../server/answers/confidence.js';

describe('computeConfidence', () => {
  it('is similarity × 0.7 + diversity × 0.2 + coverage × 0.1', () => {
    expect(CONFIDENCE_WEIGHTS).toEqual({ similarity: 0.7, diversity: 0.2, coverage: 0.1 });
    const parts = computeConfidence('How long are backups kept?', [
      { file_path: 'ops/backup.md', content: 'Backups are kept for 30 days.', relevance: 0.8 },
      { file_path: 'ops/backup.md', content: 'Restore from the newest archive.', relevance: 0.4 },
      { file_path: 'ops/retention.md', content: 'Nothing relevant here.', relevance: 0.6 },
    ]);
    // similarity: mean(0.8, 0.4, 0.6) = 0.6
    expect(parts.similarity).toBeCloseTo(0.6, 3);
    // diversity: 2 distinct files / 3 sources
    expect(parts.diversity).toBeCloseTo(2 / 3, 3);
    // coverage: terms "long", "backups", "kept"; "long" appears nowhere → 2/3
    expect(parts.coverage).toBeCloseTo(2 / 3, 3);
    expect(parts.confidence).toBeCloseTo(0.6 * 0.7 + (2 / 3) * 0.2 + (2 / 3) * 0.1, 3);
  });

  it('is 0 without sources and never leaves 0..1', () => {
    expect(computeConfidence('anything at all', []).confidence).toBe(0);
    const high = computeConfidence('backup', [{ file_path: 'a.md', content: 'backup', relevance: 7 }]);
    expect(high.similarity).toBe(1);
    expect(high.confidence).toBeLessThanOrEqual(1);
    const low = computeConfidence('backup', [{ file_path: 'a.md', content: 'nothing', relevance: -3 }]);
    expect(low.confidence).toBeGreaterThanOrEqual(0);
    expect(computeConfidence('x', [{ file_path: 'a.md', content: 'x', relevance: Number.NaN }]).similarity).toBe(0);
  });

  it('rewards answers drawn from several documents', () => {
    const same = computeConfidence('deploy qdrant', [
      { file_path: 'a.md', content: 'deploy qdrant', relevance: 0.5 },
      { file_path: 'a.md', content: 'deploy qdrant', relevance: 0.5 },
    ]);
    const spread = computeConfidence('deploy qdrant', [
      { file_path: 'a.md', content: 'deploy qdrant', relevance: 0.5 },
      { file_path: 'b.md', content: 'deploy qdrant', relevance: 0.5 },
    ]);
    expect(spread.confidence - same.confidence).toBeCloseTo(0.5 * 0.2, 3);
  });
});

describe('usedSources', () => {
  const sources = [1, 2, 3, 4, 5].map((index) => ({ index }));
  it('takes the cited sources', () => {
    expect(usedSources(sources, [4, 2, 4], (s) => s.index).map((s) => s.index)).toEqual([2, 4]);
  });
  it('falls back to the top three when nothing is cited', () => {
    expect(usedSources(sources, [], (s) => s.index).map((s) => s.index)).toEqual([1, 2, 3]);
  });
});
