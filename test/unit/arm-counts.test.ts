import { describe, expect, it } from 'vitest';
import { ArmCounts } from '../../server/stores/embedded/arm-counts.js';

describe('ArmCounts', () => {
  const walker = (n: number) => {
    const walks: string[] = [];
    return { walks, walk: (arm: string) => () => (walks.push(arm), n) };
  };

  it('keeps a count through a few writes, but never a zero, and walks everything again past a thousand writes', () => {
    const counts = new ArmCounts();
    const seen = walker(7);
    const none = walker(0);
    expect(counts.count(10, 'common', seen.walk('common'))).toBe(7);
    expect(counts.count(10, 'absent', none.walk('absent'))).toBe(0);
    // 500 writes later: the count is at most 500 off, so it serves; the zero is walked again.
    expect(counts.count(510, 'common', seen.walk('common'))).toBe(7);
    expect(counts.count(510, 'absent', none.walk('absent'))).toBe(0);
    expect(seen.walks).toEqual(['common']);
    expect(none.walks).toEqual(['absent', 'absent']);
    // Past a thousand writes since it was walked, it is walked again.
    expect(counts.count(1_011, 'common', seen.walk('common'))).toBe(7);
    expect(seen.walks).toEqual(['common', 'common']);
  });

  it('walks everything again when the generation goes back (a restored backup)', () => {
    const counts = new ArmCounts();
    const seen = walker(3);
    counts.count(100, 'word', seen.walk('word'));
    counts.count(40, 'word', seen.walk('word'));
    expect(seen.walks).toEqual(['word', 'word']);
  });
});
