/**
 * One-at-a-time per key inside this process: work for the same key runs in
 * the order it arrived, work for different keys runs in parallel. Used for
 * library files (an upload's ownership check, write and index are one step)
 * and for conversations (turns of one conversation are appended in order).
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    // A failed predecessor does not fail its successor: each holder gets its own result.
    const next = previous.catch(() => undefined).then(work);
    this.tails.set(key, next);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === next) this.tails.delete(key);
    }
  }
}
