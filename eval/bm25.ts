/**
 * The eval's own floor: textbook Okapi BM25 (k1 = 1.2, b = 0.75, Lucene's
 * IDF) over lowercased letter/digit runs, no stemming, no field weights. It
 * shares no code with the server's keyword search on purpose.
 */
const K1 = 1.2;
const B = 0.75;
const WORD = /[\p{L}\p{N}]+/gu;

export function words(text: string): string[] {
  return [...text.toLowerCase().matchAll(WORD)].map((m) => m[0]);
}

export class Bm25 {
  private readonly postings = new Map<string, Array<{ doc: number; tf: number }>>();
  private readonly lengths: number[];
  private readonly avgLength: number;

  constructor(docs: readonly string[]) {
    this.lengths = docs.map((text, doc) => {
      const tf = new Map<string, number>();
      const ws = words(text);
      for (const w of ws) tf.set(w, (tf.get(w) ?? 0) + 1);
      for (const [w, n] of tf) {
        let list = this.postings.get(w);
        if (list === undefined) this.postings.set(w, (list = []));
        list.push({ doc, tf: n });
      }
      return ws.length;
    });
    this.avgLength = this.lengths.reduce((a, b) => a + b, 0) / Math.max(1, docs.length);
  }

  /** Indices of the `k` best documents, best first. */
  search(query: string, k: number): number[] {
    const n = this.lengths.length;
    const scores = new Map<number, number>();
    for (const w of new Set(words(query))) {
      const list = this.postings.get(w);
      if (list === undefined) continue;
      const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
      for (const { doc, tf } of list) {
        const norm = tf + K1 * (1 - B + (B * this.lengths[doc]!) / this.avgLength);
        scores.set(doc, (scores.get(doc) ?? 0) + (idf * tf * (K1 + 1)) / norm);
      }
    }
    return [...scores.entries()]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, k)
      .map(([doc]) => doc);
  }
}
