import { mulberry32 } from '../bench/random.js';

/** A seeded Fisher–Yates shuffle: the same corpus gives the same opaque names and samples on every run. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rand = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export { mulberry32 };
